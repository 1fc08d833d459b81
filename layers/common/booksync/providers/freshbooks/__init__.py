"""FreshBooks adapter (OAuth 2.0 with single-use refresh tokens + the accounting REST API)."""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from booksync.providers.freshbooks.accounting import FreshBooksAccounting
from booksync.providers.freshbooks.oauth import FreshBooksOAuth

if TYPE_CHECKING:  # the importer loads only in the import function (cold start of the others)
    from booksync.providers.freshbooks.imports import FreshBooksImporter


@lru_cache(maxsize=1)
def oauth_client() -> FreshBooksOAuth:
    return FreshBooksOAuth.from_env()


@lru_cache(maxsize=1)
def accounting() -> FreshBooksAccounting:
    return FreshBooksAccounting()


@lru_cache(maxsize=1)
def importer() -> FreshBooksImporter:
    from booksync.providers.freshbooks.imports import FreshBooksImporter

    return FreshBooksImporter()
