"""Routes: integrations (connect, disconnect, settings, accounts) and account mappings."""

from __future__ import annotations

from typing import Annotated, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from booksync.api import company_id, json_response
from booksync.api import doc as _doc
from booksync.api import errors as _errors
from booksync.config import check_provider
from booksync.integrations.models import ProviderMapping, SyncSettings
from booksync.integrations.schemas import AccountList, AccountMappingsIn, ConnectOut, IntegrationList, SettingsIn
from booksync.wiring import integration_service, oauth_service, sync_engine, sync_service


def _mappings_out(m: dict[str, ProviderMapping]) -> dict[str, object]:
    return {p: v.model_dump(mode="json", by_alias=True) for p, v in m.items()}


def build() -> Router:
    """A fresh router: powertools binds a router to the last resolver that includes it."""
    router = Router()

    @router.get("/integrations", tags=["integrations"], responses=_doc(IntegrationList))
    def list_integrations() -> Response[str]:
        return json_response(integration_service().overview(company_id(router)))

    @router.post("/integrations/<provider>/connect", tags=["integrations"], responses=_doc(ConnectOut))
    def connect(provider: str) -> Response[str]:
        url = oauth_service().start(company_id(router), provider)
        return json_response(ConnectOut(authorize_url=url))

    @router.delete(
        "/integrations/<provider>",
        tags=["integrations"],
        responses={204: {"description": "Disconnected", "content": {}}, **_errors()},
    )
    def disconnect(provider: str) -> Response[str]:
        oauth_service().disconnect(company_id(router), provider)
        return Response(status_code=204, body="")

    @router.put("/integrations/<provider>/settings", tags=["integrations"], responses=_doc(SyncSettings))
    def update_settings(provider: str, body: SettingsIn) -> Response[str]:
        return json_response(integration_service().update_settings(company_id(router), provider, body))

    @router.get("/integrations/<provider>/accounts", tags=["integrations"], responses=_doc(AccountList))
    def list_accounts(
        provider: str,
        purpose: Annotated[
            Literal["income", "payment"],
            Query(description="income: accounts invoice lines post to; payment: where a payment can be deposited"),
        ] = "income",
    ) -> Response[str]:
        check_provider(provider)
        return json_response({"data": sync_engine().accounts(company_id(router), provider, purpose)})

    @router.post(
        "/integrations/<provider>/backfill",
        tags=["integrations"],
        responses=_doc(status=202, description="Backfill queued: every sent invoice not yet in the books is pushed"),
    )
    def backfill(provider: str) -> Response[str]:
        check_provider(provider)
        return json_response(sync_service().request_backfill(company_id(router), provider), status=202)

    @router.get("/account-mappings", tags=["integrations"], responses=_doc(AccountMappingsIn))
    def get_mappings() -> Response[str]:
        return json_response(_mappings_out(integration_service().get_mappings(company_id(router))))

    @router.put("/account-mappings", tags=["integrations"], responses=_doc(AccountMappingsIn))
    def put_mappings(body: AccountMappingsIn) -> Response[str]:
        return json_response(_mappings_out(integration_service().put_mappings(company_id(router), body)))

    return router
