"""The control plane under ``/_sandbox/`` (JSON in, JSON out). Documented in ``local/sandbox/README.md``."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse as _StarletteJSONResponse
from starlette.routing import Route

from local.sandbox.faults import FaultSpecError
from local.sandbox.framework import ConfigError, SandboxCore


class JSONResponse(_StarletteJSONResponse):
    """JSON that also renders Decimal (as a number) and any other odd value (as a string)."""

    def render(self, content: Any) -> bytes:
        def default(value: Any) -> Any:
            return float(value) if isinstance(value, Decimal) else str(value)

        return json.dumps(content, default=default, separators=(",", ":")).encode("utf-8")


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


async def _json_body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    data = json.loads(raw)
    if not isinstance(data, dict):
        raise ValueError("body must be a JSON object")
    return data


def control_routes(core: SandboxCore) -> list[Route]:
    def provider_or_404(name: str | None) -> JSONResponse | None:
        if name is not None and name not in core.providers:
            return _error(404, f"unknown provider {name!r}; known: {sorted(core.providers)}")
        return None

    async def index(request: Request) -> JSONResponse:
        base = str(request.base_url).rstrip("/")
        return JSONResponse(
            {
                "providers": {
                    name: {"base_url": f"{base}/{name}", "env": p.env(base)} for name, p in core.providers.items()
                },
                "clock": core.clock.now().isoformat(),
            }
        )

    async def reset(request: Request) -> JSONResponse:
        provider = request.query_params.get("provider") or None
        if (missing := provider_or_404(provider)) is not None:
            return missing
        core.reset(provider)
        return JSONResponse({"reset": provider or "all", "clock": core.clock.now().isoformat()})

    async def requests_(request: Request) -> JSONResponse:
        provider = request.query_params.get("provider") or None
        if (missing := provider_or_404(provider)) is not None:
            return missing
        since = request.query_params.get("since")
        since_seq: int | None = None
        since_time: float | None = None
        if since:
            if since.isdigit():
                since_seq = int(since)
            else:
                try:
                    since_time = datetime.fromisoformat(since.replace("Z", "+00:00")).timestamp()
                except ValueError:
                    return _error(400, "since must be a sequence number or an ISO-8601 time")
        entries = core.log.query(provider, since_seq, since_time)
        return JSONResponse({"requests": [e.to_json() for e in entries], "last_seq": core.log.last_seq})

    async def faults(request: Request) -> JSONResponse:
        if request.method == "GET":
            provider = request.query_params.get("provider") or None
            return JSONResponse({"faults": [f.to_json() for f in core.faults.list(provider)]})
        if request.method == "DELETE":
            provider = request.query_params.get("provider") or None
            if (missing := provider_or_404(provider)) is not None:
                return missing
            raw_id = request.query_params.get("id")
            if raw_id is not None and not raw_id.isdigit():
                return _error(400, "id must be an integer")
            removed = core.faults.clear(provider, int(raw_id) if raw_id is not None else None)
            return JSONResponse({"removed": removed})
        try:
            spec = await _json_body(request)
            rule = core.faults.add(spec, set(core.providers))
        except (ValueError, FaultSpecError) as exc:
            return _error(400, str(exc))
        return JSONResponse(rule.to_json(), status_code=201)

    async def clock(request: Request) -> JSONResponse:
        if request.method == "POST":
            try:
                body = await _json_body(request)
                seconds = body.get("advance", 0)
                if isinstance(seconds, bool) or not isinstance(seconds, int | float):
                    raise ValueError("advance must be a number of seconds")
                core.clock.advance(float(seconds))
            except ValueError as exc:
                return _error(400, str(exc))
        now = core.clock.now()
        return JSONResponse({"now": now.isoformat(), "timestamp": now.timestamp(), "offset": core.clock.offset})

    async def tenants(request: Request) -> JSONResponse:
        name = request.path_params["provider"]
        if (missing := provider_or_404(name)) is not None:
            return missing
        with core.lock:
            return JSONResponse({"tenants": core.providers[name].tenants()})

    async def tenant(request: Request) -> JSONResponse:
        name = request.path_params["provider"]
        if (missing := provider_or_404(name)) is not None:
            return missing
        tenant_id = request.path_params["tenant"]
        with core.lock:
            dump = core.providers[name].tenant_dump(tenant_id)
        if dump is None:
            return _error(404, f"unknown tenant {tenant_id!r}")
        dump["limits"] = core.limiter.snapshot(name, tenant_id, core.clock.timestamp())
        return JSONResponse(dump)

    async def config(request: Request) -> JSONResponse:
        name = request.path_params["provider"]
        if (missing := provider_or_404(name)) is not None:
            return missing
        provider = core.providers[name]
        if request.method == "GET":
            with core.lock:
                return JSONResponse(provider.get_config())
        try:
            knobs = await _json_body(request)
            with core.lock:
                return JSONResponse(provider.configure(knobs))
        except (ValueError, ConfigError) as exc:
            return _error(400, str(exc))

    return [
        Route("/", index, methods=["GET"]),
        Route("/reset", reset, methods=["POST"]),
        Route("/requests", requests_, methods=["GET"]),
        Route("/faults", faults, methods=["GET", "POST", "DELETE"]),
        Route("/clock", clock, methods=["GET", "POST"]),
        Route("/{provider}/tenants", tenants, methods=["GET"]),
        Route("/{provider}/tenants/{tenant}", tenant, methods=["GET"]),
        Route("/{provider}/config", config, methods=["GET", "POST"]),
    ]
