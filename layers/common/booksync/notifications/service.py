"""Sync-failure notifications: one per (provider, entity, problem) while unread; repeats update it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from pydantic import Field

from booksync.notifications.models import Notification
from booksync.schema_base import ApiModel


class NotificationPage(ApiModel):
    data: list[Notification]
    next_cursor: str | None = None
    unread_count: int = Field(ge=0)


class NotificationRepo(Protocol):
    def raise_(
        self,
        company_id: str,
        *,
        code: str,
        message: str,
        provider: str | None,
        entity_type: str | None,
        entity_id: str | None,
    ) -> tuple[Notification, bool]: ...
    def page(self, company_id: str, limit: int, cursor: str | None) -> tuple[list[Notification], str | None]: ...
    def unread_count(self, company_id: str) -> int: ...
    def mark_read(self, company_id: str, notification_id: str) -> Notification: ...


@dataclass(frozen=True)
class NotificationService:
    repo: NotificationRepo

    def notify(
        self,
        company_id: str,
        *,
        code: str,
        message: str,
        provider: str | None = None,
        entity_type: str | None = None,
        entity_id: str | None = None,
    ) -> Notification:
        notification, _created = self.repo.raise_(
            company_id, code=code, message=message, provider=provider, entity_type=entity_type, entity_id=entity_id
        )
        return notification

    def page(self, company_id: str, limit: int, cursor: str | None) -> NotificationPage:
        rows, nxt = self.repo.page(company_id, limit, cursor)
        return NotificationPage(data=rows, next_cursor=nxt, unread_count=self.repo.unread_count(company_id))

    def mark_read(self, company_id: str, notification_id: str) -> Notification:
        return self.repo.mark_read(company_id, notification_id)
