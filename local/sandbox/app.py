"""The sandbox ASGI app: each provider under ``/<provider>/...``, the control plane under ``/_sandbox/``."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from starlette.routing import Mount

from local.sandbox.control import control_routes
from local.sandbox.framework import ProviderSandbox, SandboxCore, SandboxStarlette, provider_routes
from local.sandbox.freshbooks import FreshBooksSandbox
from local.sandbox.quickbooks import QuickBooksSandbox
from local.sandbox.wave import WaveSandbox
from local.sandbox.xero import XeroSandbox

ProviderFactory = Callable[[SandboxCore], ProviderSandbox]

# One line per provider sandbox: the key is the URL prefix and must equal the provider's ``name``.
PROVIDERS: dict[str, ProviderFactory] = {
    "quickbooks": QuickBooksSandbox,
    "xero": XeroSandbox,
    "freshbooks": FreshBooksSandbox,
    "wave": WaveSandbox,
}


def create_app(
    providers: Iterable[str] | None = None,
    *,
    extra: Iterable[ProviderFactory] = (),
    core: SandboxCore | None = None,
) -> SandboxStarlette:
    """Build the sandbox app.

    ``providers`` selects registered providers by name (default: all); ``extra`` adds provider factories that are
    not registered (tests use it). The shared state is ``app.sandbox`` (a ``SandboxCore``).
    """
    core = core or SandboxCore()
    names = list(PROVIDERS) if providers is None else list(providers)
    for name in names:
        if name not in PROVIDERS:
            raise ValueError(f"unknown provider {name!r}; registered: {sorted(PROVIDERS)}")
        provider = core.add_provider(PROVIDERS[name])
        if provider.name != name:
            raise ValueError(f"provider registered as {name!r} calls itself {provider.name!r}")
    for factory in extra:
        core.add_provider(factory)
    routes: list[Mount] = [Mount("/_sandbox", routes=control_routes(core))]
    routes += [Mount(f"/{name}", routes=provider_routes(core, p)) for name, p in core.providers.items()]
    return SandboxStarlette(core, routes)
