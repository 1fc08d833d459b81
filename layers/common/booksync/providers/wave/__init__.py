"""Wave adapter (OAuth 2.0 + the public GraphQL API at ``{WAVE_API_URL}/graphql/public``)."""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from booksync.providers.wave.accounting import WaveAccounting
from booksync.providers.wave.oauth import WaveOAuth

if TYPE_CHECKING:  # the importer loads only in the import function (cold start of the others)
    from booksync.providers.wave.imports import WaveImporter


@lru_cache(maxsize=1)
def oauth_client() -> WaveOAuth:
    return WaveOAuth.from_env()


@lru_cache(maxsize=1)
def accounting() -> WaveAccounting:
    return WaveAccounting()


@lru_cache(maxsize=1)
def importer() -> WaveImporter:
    from booksync.providers.wave.imports import WaveImporter

    return WaveImporter()
