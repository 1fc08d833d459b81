"""One authorised provider request, the same for every adapter: bearer token, one refresh after a 401, transport
failures as ``Unavailable``. Each adapter keeps only what is its own: URL, extra headers, how it reads an answer."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx

from booksync.providers.http import client
from booksync.ratelimit import TENANT_EXTENSION
from booksync.sync.ports import Session, Unauthorized, Unavailable


def _status_401(resp: httpx.Response) -> bool:
    return resp.status_code == 401


def authorized_request(
    s: Session,
    provider: str,
    label: str,
    method: str,
    url: str,
    *,
    params: dict[str, str] | None = None,
    body: Any = None,
    headers: dict[str, str] | None = None,
    http: httpx.Client | None = None,
    rejected_token: Callable[[httpx.Response], bool] = _status_401,
    on_attempt: Callable[[], None] | None = None,
) -> httpx.Response:
    """Send ``method url`` with ``s.access_token``; when the answer says the token was refused (``rejected_token``:
    a 401 unless the provider says it otherwise, e.g. GraphQL's ``UNAUTHENTICATED``), get a fresh token once through
    ``s.on_unauthorized`` and send again. Returns the last answer for the adapter to read. A timeout or a broken
    connection raises ``Unavailable``: the write may or may not have been saved, so the engine's retry relies on the
    provider's idempotency key or looks before it creates again."""
    # the session's tenant for the pacer (never sent): what the provider counts its limits against
    extensions = {TENANT_EXTENSION: s.tenant_id} if s.tenant_id else None
    for attempt in (1, 2):
        sent = {"Authorization": f"Bearer {s.access_token}", "Accept": "application/json", **(headers or {})}
        content = None
        if body is not None:
            sent["Content-Type"] = "application/json"
            content = json.dumps(body)
        if on_attempt is not None:
            on_attempt()
        try:
            resp = (http or client(provider)).request(
                method, url, params=params or None, headers=sent, content=content, extensions=extensions
            )
        except httpx.TimeoutException as exc:
            raise Unavailable(f"{label} timed out (the write may or may not have been saved)") from exc
        except httpx.HTTPError as exc:
            raise Unavailable(f"{label} connection failed (the write may or may not have been saved)") from exc
        if attempt == 1 and rejected_token(resp):
            s.access_token = s.on_unauthorized(s.access_token)
            continue
        return resp
    raise Unauthorized(f"{label} refused the access token twice")  # pragma: no cover - the loop always returns
