"""Routes: notifications."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from booksync.api import company_id, json_response
from booksync.api import doc as _doc
from booksync.notifications.models import Notification
from booksync.notifications.service import NotificationPage
from booksync.wiring import notification_service


def build() -> Router:
    """A fresh router: powertools binds a router to the last resolver that includes it."""
    router = Router()

    @router.get("/notifications", tags=["notifications"], responses=_doc(NotificationPage))
    def list_notifications(
        limit: Annotated[int, Query(ge=1, le=100)] = 50, cursor: Annotated[str | None, Query(max_length=2048)] = None
    ) -> Response[str]:
        return json_response(notification_service().page(company_id(router), limit, cursor))

    @router.post("/notifications/<notification_id>/read", tags=["notifications"], responses=_doc(Notification))
    def read_notification(notification_id: str) -> Response[str]:
        return json_response(notification_service().mark_read(company_id(router), notification_id))

    return router
