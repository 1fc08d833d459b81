"""Xero adapter (identity OAuth 2.0 + Accounting API 2.0)."""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from booksync.providers.xero.accounting import XeroAccounting
from booksync.providers.xero.oauth import XeroOAuth

if TYPE_CHECKING:  # the importer loads only in the import function (cold start of the others)
    from booksync.providers.xero.imports import XeroImporter


@lru_cache(maxsize=1)
def oauth_client() -> XeroOAuth:
    return XeroOAuth.from_env()


@lru_cache(maxsize=1)
def accounting() -> XeroAccounting:
    return XeroAccounting()


@lru_cache(maxsize=1)
def importer() -> XeroImporter:
    from booksync.providers.xero.imports import XeroImporter

    return XeroImporter()
