from __future__ import annotations

from datetime import datetime

from booksync.schema_base import ApiModel


class Notification(ApiModel):
    id: str
    code: str
    message: str
    provider: str | None = None
    entity_type: str | None = None
    entity_id: str | None = None
    read: bool = False
    occurrences: int = 1
    created_at: datetime
    updated_at: datetime
