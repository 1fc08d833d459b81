"""Drive handlers with the real-shaped events in events/ (the same files `sam local invoke -e` takes)."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
EVENTS = ROOT / "events"


@dataclass
class LambdaContext:
    function_name: str = "test-function"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:test-function"
    aws_request_id: str = "00000000-0000-0000-0000-000000000000"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


def load_event(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / name).read_text())


def http_event(
    template: str,
    *,
    method: str | None = None,
    path: str | None = None,
    body: Any = ...,
    company: str | None = "co_a",
    query: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    raw_body: str | None = None,
) -> dict[str, Any]:
    """Start from an events/ file and change what the case needs (path, body, caller's company)."""
    event = copy.deepcopy(load_event(template))
    if method:
        event["requestContext"]["http"]["method"] = method
    if path:
        event["rawPath"] = path
        event["requestContext"]["http"]["path"] = path
    if body is not ...:
        if body is None:
            event.pop("body", None)
        else:
            event["body"] = json.dumps(body)
            event["headers"]["content-type"] = "application/json"
    if raw_body is not None:
        event["body"] = raw_body
    if query is not None:
        event["queryStringParameters"] = query
        event["rawQueryString"] = "&".join(f"{k}={v}" for k, v in query.items())
    if headers:
        event["headers"].update({k.lower(): v for k, v in headers.items()})
    authorizer = event["requestContext"].get("authorizer")
    if authorizer is not None:
        if company is None:
            authorizer["jwt"]["claims"].pop("company_id", None)
        else:
            authorizer["jwt"]["claims"]["company_id"] = company
    return event


@dataclass
class HttpResult:
    status: int
    body: Any
    headers: dict[str, str]


def invoke(handler: Any, event: dict[str, Any]) -> HttpResult:
    resp = handler(event, LambdaContext())
    raw = resp.get("body") or ""
    try:
        parsed = json.loads(raw) if raw else None
    except json.JSONDecodeError:
        parsed = raw
    return HttpResult(resp["statusCode"], parsed, {k.lower(): v for k, v in (resp.get("headers") or {}).items()})


def pace_on_sandbox_clock(sandbox: Any) -> None:
    """Our client-side rate pacing (booksync.ratelimit) on the sandbox's clock: a wait for budget moves that clock
    instead of sleeping. The sandbox counts its own limits on the same clock, so both agree, and a test that makes a
    few hundred provider calls does not sit out real minutes. Tests about pacing itself set their own clock."""
    from booksync import wiring

    pacer = wiring.rate_pacer()
    clock = sandbox.core.clock
    pacer.clock = clock.timestamp
    pacer.sleep = clock.advance
