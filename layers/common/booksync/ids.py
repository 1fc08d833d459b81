"""Opaque, time-ordered ids (so lists come out in creation order) and the service clock."""

from __future__ import annotations

import secrets
import time
from datetime import UTC, datetime


def new_id(prefix: str) -> str:
    """``<prefix>_<13 hex digits of ms since epoch><10 random hex>``: sortable by creation time, unguessable."""
    return f"{prefix}_{int(time.time() * 1000):013x}{secrets.token_hex(5)}"


def utcnow() -> datetime:
    return datetime.now(UTC)


def iso(dt: datetime | None) -> str | None:
    return dt.astimezone(UTC).isoformat().replace("+00:00", "Z") if dt else None
