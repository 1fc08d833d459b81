"""Route: the OAuth redirect target (no JWT: the single-use `state` names the company)."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from booksync.wiring import oauth_service


def build() -> Router:
    """A fresh router: powertools binds a router to the last resolver that includes it."""
    router = Router()

    @router.get(
        "/integrations/<provider>/callback",
        tags=["integrations"],
        responses={
            302: {
                "description": "Redirect to the frontend (`?connected=<provider>` or `?error=<code>`)",
                "headers": {"Location": {"description": "Where the browser goes next", "schema": {"type": "string"}}},
                "content": {},
            }
        },
    )
    def oauth_callback(provider: str) -> Response[str]:
        params = dict(router.current_event.query_string_parameters or {})
        location = oauth_service().complete(provider, params)
        return Response(status_code=302, headers={"Location": location}, body="")

    return router
