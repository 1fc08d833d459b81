"""Provider adapters, imported lazily: a function imports only the provider its message needs (cold start)."""

from __future__ import annotations

import importlib
from typing import Any

from booksync.config import PROVIDER_DISPLAY_NAMES
from booksync.errors import Conflict

# provider -> module implementing it; a provider absent here answers `not_connected` on every integration route
ADAPTERS: dict[str, str] = {
    "quickbooks": "booksync.providers.quickbooks",
    "freshbooks": "booksync.providers.freshbooks",
    "wave": "booksync.providers.wave",
    "xero": "booksync.providers.xero",
}


def available(provider: str) -> bool:
    return provider in ADAPTERS


def oauth_client(provider: str) -> Any:
    return _module(provider).oauth_client()


def accounting(provider: str) -> Any:
    return _module(provider).accounting()


def importer(provider: str) -> Any:
    """The provider's ImportSource (booksync.imports.ports); a provider without one answers `not_connected`."""
    factory = getattr(_module(provider), "importer", None)
    if factory is None:
        name = PROVIDER_DISPLAY_NAMES.get(provider, provider)
        raise Conflict(f"Importing from {name} is not available in this build yet.", code="not_connected")
    return factory()


def reset() -> None:
    """Forget cached adapter instances (tests that change provider URLs call this)."""
    for name in ADAPTERS.values():
        module = importlib.import_module(name)
        for attr in ("oauth_client", "accounting", "importer"):
            fn = getattr(module, attr, None)
            if fn is not None and hasattr(fn, "cache_clear"):
                fn.cache_clear()


def _module(provider: str) -> Any:
    if provider not in ADAPTERS:
        name = PROVIDER_DISPLAY_NAMES.get(provider, provider)
        raise Conflict(f"Connecting to {name} is not available in this build yet.", code="not_connected")
    return importlib.import_module(ADAPTERS[provider])
