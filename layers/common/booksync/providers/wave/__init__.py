"""Wave adapter (OAuth 2.0 + the public GraphQL API at ``{WAVE_API_URL}/graphql/public``)."""

from __future__ import annotations

from functools import lru_cache

from booksync.providers.wave.accounting import WaveAccounting
from booksync.providers.wave.imports import WaveImporter
from booksync.providers.wave.oauth import WaveOAuth


@lru_cache(maxsize=1)
def oauth_client() -> WaveOAuth:
    return WaveOAuth.from_env()


@lru_cache(maxsize=1)
def accounting() -> WaveAccounting:
    return WaveAccounting()


@lru_cache(maxsize=1)
def importer() -> WaveImporter:
    return WaveImporter()
