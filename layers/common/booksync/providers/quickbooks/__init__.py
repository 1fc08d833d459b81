"""QuickBooks Online adapter (Intuit Accounting API v3)."""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from booksync.providers.quickbooks.accounting import QuickBooksAccounting
from booksync.providers.quickbooks.oauth import QuickBooksOAuth

if TYPE_CHECKING:  # the importer loads only in the import function (cold start of the others)
    from booksync.providers.quickbooks.imports import QuickBooksImporter


@lru_cache(maxsize=1)
def oauth_client() -> QuickBooksOAuth:
    return QuickBooksOAuth.from_env()


@lru_cache(maxsize=1)
def accounting() -> QuickBooksAccounting:
    return QuickBooksAccounting()


@lru_cache(maxsize=1)
def importer() -> QuickBooksImporter:
    from booksync.providers.quickbooks.imports import QuickBooksImporter

    return QuickBooksImporter()
