"""Provider-agnostic sandbox core: the request pipeline every provider route runs through.

Pipeline per provider request: read body -> log -> tenant rate/concurrency limits -> fault injection ->
provider handler (synchronous, under the sandbox lock, so every write is atomic) -> post-commit faults
(``commit_then_500`` / ``commit_then_drop``) -> log the outcome.

A provider is a ``ProviderSandbox`` subclass that lists ``ProviderRoute``s and knows its own error envelope.
Nothing in this module knows any provider by name.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.datastructures import Headers, QueryParams
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from local.sandbox.clock import SandboxClock
from local.sandbox.faults import FaultRegistry, FaultRule
from local.sandbox.limits import TenantLimiter, TenantLimits
from local.sandbox.requestlog import RequestLog

logger = logging.getLogger("local.sandbox")


class DropConnection(BaseException):
    """Raised to make the server close the TCP connection without sending any HTTP response.

    It derives from BaseException so Starlette's error middleware (which catches Exception and answers 500)
    lets it through to ``SandboxStarlette``, which aborts the transport.
    """


class ConfigError(ValueError):
    """A control-plane configuration knob has an invalid value."""


@dataclass
class SandboxRequest:
    provider: str
    method: str
    path: str
    path_params: dict[str, str]
    query: QueryParams
    headers: Headers
    body: bytes
    base_url: str
    tenant: str | None = None
    token_refresh: bool = False

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";", 1)[0].strip().lower()

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8"))

    def form(self) -> dict[str, str]:
        return dict(parse_qsl(self.body.decode("utf-8"), keep_blank_values=True))


Handler = Callable[[SandboxRequest], Response]


@dataclass(frozen=True)
class ProviderRoute:
    path: str
    handler: Handler
    methods: tuple[str, ...] = ("GET",)
    tenant_param: str | None = None  # path parameter naming the tenant: tenant limits apply to this route
    tenant_header: str | None = None  # or the request header naming it (Xero: xero-tenant-id)


class ProviderSandbox:
    """Base class of a provider sandbox. Subclasses set ``name`` and implement the hooks."""

    name: ClassVar[str] = ""

    def __init__(self, core: SandboxCore) -> None:
        self.core = core

    @property
    def clock(self) -> SandboxClock:
        return self.core.clock

    def routes(self) -> list[ProviderRoute]:
        raise NotImplementedError

    def fault_response(
        self, req: SandboxRequest, status: int, retry_after: int | None = None, message: str | None = None
    ) -> Response:
        """An injected or internal error in the provider's own error envelope."""
        raise NotImplementedError

    def throttle_response(self, req: SandboxRequest, reason: str) -> Response:
        """Answer to a request refused by the tenant limits; ``reason`` is "rate" or "concurrency"."""
        raise NotImplementedError

    def limits_for(self, tenant: str) -> TenantLimits:
        return TenantLimits()

    def reset(self) -> None:
        raise NotImplementedError

    def get_config(self) -> dict[str, Any]:
        return {}

    def configure(self, knobs: dict[str, Any]) -> dict[str, Any]:
        raise ConfigError("this provider has no knobs")

    def tenants(self) -> list[str]:
        return []

    def tenant_dump(self, tenant: str) -> dict[str, Any] | None:
        return None

    def env(self, base_url: str) -> dict[str, str]:
        """Environment variables a client uses to talk to this sandbox at ``base_url`` (no trailing slash)."""
        return {}


class SandboxCore:
    """State shared by all providers: clock, faults, request log, limits and the global lock."""

    def __init__(self, clock: SandboxClock | None = None) -> None:
        self.clock = clock or SandboxClock()
        self.faults = FaultRegistry()
        self.log = RequestLog()
        self.limiter = TenantLimiter()
        self.lock = threading.RLock()
        self.providers: dict[str, ProviderSandbox] = {}

    def add_provider(self, factory: Callable[[SandboxCore], ProviderSandbox]) -> ProviderSandbox:
        provider = factory(self)
        if not provider.name or provider.name in self.providers or provider.name.startswith("_"):
            raise ValueError(f"invalid or duplicate provider name {provider.name!r}")
        self.providers[provider.name] = provider
        return provider

    def reset(self, provider: str | None = None) -> None:
        with self.lock:
            names = [provider] if provider else list(self.providers)
            for name in names:
                self.providers[name].reset()
                self.faults.clear(provider=name)
                self.log.clear(name)
                self.limiter.reset(name)
            if provider is None:
                self.clock.reset()


def _make_endpoint(core: SandboxCore, provider: ProviderSandbox, route: ProviderRoute) -> Callable[..., Any]:
    async def endpoint(request: Request) -> Response:
        body = await request.body()
        req = SandboxRequest(
            provider=provider.name,
            method=request.method.upper(),
            path=request.url.path,
            path_params={k: str(v) for k, v in request.path_params.items()},
            query=request.query_params,
            headers=request.headers,
            body=body,
            base_url=str(request.base_url).rstrip("/"),
        )
        tenant = req.path_params.get(route.tenant_param) if route.tenant_param else None
        if tenant is None and route.tenant_header:
            tenant = req.headers.get(route.tenant_header) or None
        req.tenant = tenant
        entry = core.log.start(provider.name, req.method, req.path, request.url.query, core.clock.now())

        def finish(response: Response | None, outcome: str, fault: FaultRule | None = None) -> None:
            entry.status = response.status_code if response is not None else None
            entry.tenant = req.tenant
            entry.token_refresh = req.token_refresh
            entry.fault = fault.mode if fault else None
            entry.outcome = outcome

        if tenant is not None:
            verdict = core.limiter.admit(provider.name, tenant, provider.limits_for(tenant), core.clock.timestamp())
            if verdict is not None:
                with core.lock:
                    response = provider.throttle_response(req, verdict)
                finish(response, f"throttled_{verdict}")
                return response
        try:
            fault = core.faults.take(provider.name, req.method, req.path)
            if fault is not None and fault.mode == "status":
                response = provider.fault_response(req, fault.status or 500, fault.retry_after, fault.message)
                finish(response, "fault", fault)
                return response
            if fault is not None and fault.mode == "timeout":
                await asyncio.sleep(fault.seconds)
                response = provider.fault_response(req, fault.status or 504, fault.retry_after, fault.message)
                finish(response, "fault", fault)
                return response
            try:
                with core.lock:
                    response = route.handler(req)
            except Exception:
                logger.exception("sandbox handler failed: %s %s", req.method, req.path)
                response = provider.fault_response(req, 500, None, "sandbox handler error")
                finish(response, "error")
                return response
            if fault is not None and fault.mode == "commit_then_500":
                response = provider.fault_response(req, fault.status or 500, fault.retry_after, fault.message)
                finish(response, "committed_then_500", fault)
                return response
            if fault is not None and fault.mode == "commit_then_drop":
                finish(None, "committed_then_dropped", fault)
                raise DropConnection()
            finish(response, "ok")
            return response
        finally:
            if tenant is not None:
                core.limiter.release(provider.name, tenant)

    return endpoint


def provider_routes(core: SandboxCore, provider: ProviderSandbox) -> list[Route]:
    return [
        Route(route.path, _make_endpoint(core, provider, route), methods=list(route.methods))
        for route in provider.routes()
    ]


def _find_transport(send: Send) -> asyncio.Transport | None:
    """uvicorn passes the bound ``RequestResponseCycle.send``; its owner holds the connection's transport."""
    owner = getattr(send, "__self__", None)
    transport = getattr(owner, "transport", None)
    return transport if isinstance(transport, asyncio.Transport) else None


class SandboxStarlette(Starlette):
    """Starlette app that can drop a connection without answering (see ``DropConnection``)."""

    def __init__(self, core: SandboxCore, routes: Sequence[Any]) -> None:
        super().__init__(routes=list(routes))
        self.sandbox = core

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        transport = _find_transport(send) if scope["type"] == "http" else None
        try:
            await super().__call__(scope, receive, send)
        except DropConnection:
            if transport is None:
                # No socket to abort (e.g. an in-process ASGI client): fail the exchange as a broken connection.
                raise ConnectionResetError("sandbox dropped the connection (commit_then_drop)") from None
            transport.abort()
            # Let the server's connection_lost callback run so it marks the cycle disconnected and sends nothing.
            for _ in range(3):
                await asyncio.sleep(0)
