"""Factories that build services from settings once per execution environment (tests monkeypatch these)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from booksync.config import get_settings


@lru_cache(maxsize=1)
def sqs_client() -> Any:
    import boto3

    return boto3.client("sqs")


@lru_cache(maxsize=1)
def catalog_service() -> Any:
    from booksync.adapters.dynamodb import ConnectionRepository, CustomerRepository, ItemRepository
    from booksync.catalog.service import CatalogService

    return CatalogService(
        customers=CustomerRepository(), items=ItemRepository(), connections=ConnectionRepository(), queue=sync_queue()
    )


@lru_cache(maxsize=1)
def sync_queue() -> Any:
    from booksync.adapters.sqs import SqsSyncQueue

    s = get_settings()
    return SqsSyncQueue(sqs_client(), s.invoice_sync_queue_url, s.payment_sync_queue_url)


@lru_cache(maxsize=1)
def invoice_service() -> Any:
    from booksync.adapters.dynamodb import (
        CompanyRepository,
        ConnectionRepository,
        CustomerRepository,
        InvoiceRepository,
        ItemRepository,
        SyncHistoryRepository,
    )
    from booksync.invoicing.service import InvoiceService

    return InvoiceService(
        invoices=InvoiceRepository(),
        customers=CustomerRepository(),
        items=ItemRepository(),
        connections=ConnectionRepository(),
        company=CompanyRepository(),
        queue=sync_queue(),
        history=SyncHistoryRepository(),
    )


@lru_cache(maxsize=1)
def notification_service() -> Any:
    from booksync.adapters.dynamodb import NotificationRepository
    from booksync.notifications.service import NotificationService

    return NotificationService(repo=NotificationRepository())


@lru_cache(maxsize=1)
def integration_service() -> Any:
    from booksync.adapters.dynamodb import ConnectionRepository, ItemRepository, MappingRepository
    from booksync.integrations.service import IntegrationService

    return IntegrationService(
        connections=ConnectionRepository(),
        mappings=MappingRepository(),
        items=ItemRepository(),
        imports=import_service(),
        enqueue_backfill=enqueue_backfill,
    )


@lru_cache(maxsize=1)
def sync_service() -> Any:
    from booksync.adapters.dynamodb import ConnectionRepository, CustomerRepository, InvoiceRepository, ItemRepository
    from booksync.sync.service import SyncService

    return SyncService(
        invoices=InvoiceRepository(),
        connections=ConnectionRepository(),
        notifier=notification_service(),
        engine=sync_engine(),
        customers=CustomerRepository(),
        items=ItemRepository(),
        imports=import_service,
        enqueue_backfill=enqueue_backfill,
    )


@lru_cache(maxsize=1)
def sync_engine() -> Any:
    from booksync import providers
    from booksync.adapters.dynamodb import (
        CompanyRepository,
        ConnectionRepository,
        CustomerRepository,
        ImportRepository,
        InvoiceRepository,
        ItemRepository,
        MappingRepository,
        SyncHistoryRepository,
        SyncStateRepository,
    )
    from booksync.sync.engine import SyncEngine

    return SyncEngine(
        invoices=InvoiceRepository(),
        customers=CustomerRepository(),
        items=ItemRepository(),
        mappings=MappingRepository(),
        connections=ConnectionRepository(),
        state=SyncStateRepository(),
        history=SyncHistoryRepository(),
        company=CompanyRepository(),
        notifier=notification_service(),
        tokens=token_manager(),
        provider_for=providers.accounting,
        bulk=ImportRepository(),
    )


@lru_cache(maxsize=1)
def kms_client() -> Any:
    import boto3

    return boto3.client("kms")


@lru_cache(maxsize=1)
def token_cipher() -> Any:
    from booksync.adapters.kms import KmsTokenCipher

    return KmsTokenCipher(kms_client(), get_settings().token_kms_key_id)


@lru_cache(maxsize=1)
def token_manager() -> Any:
    from booksync import providers
    from booksync.adapters.dynamodb import TokenRepository
    from booksync.integrations.tokens import TokenManager

    s = get_settings()
    return TokenManager(
        store=TokenRepository(),
        cipher=token_cipher(),
        oauth=providers.oauth_client,
        notifier=notification_service(),
        refresh_skew=s.token_refresh_skew_seconds,
        lease_seconds=s.token_lease_seconds,
    )


@lru_cache(maxsize=1)
def oauth_service() -> Any:
    from booksync import providers
    from booksync.adapters.dynamodb import OAuthStateRepository, TokenRepository
    from booksync.integrations.oauth import OAuthService

    s = get_settings()
    return OAuthService(
        states=OAuthStateRepository(),
        frontend_url=s.frontend_url,
        api_base_url=s.api_base_url,
        oauth=providers.oauth_client,
        connections=TokenRepository(),
        cipher=token_cipher(),
        tokens=token_manager(),
        state_ttl=s.oauth_state_ttl_seconds,
        backfill=enqueue_backfill,
    )


@lru_cache(maxsize=1)
def weekly_fan_out() -> Any:
    from booksync.adapters.dynamodb import ConnectionRepository
    from booksync.sync.schedule import WeeklyFanOut

    return WeeklyFanOut(
        connections=ConnectionRepository(), sqs=sqs_client(), import_queue_url=get_settings().import_queue_url
    )


# ---- imports from the books (issue 7) -------------------------------------------------------------------------------
@lru_cache(maxsize=1)
def import_service() -> Any:
    from booksync import providers
    from booksync.adapters.dynamodb import ConnectionRepository, ImportRepository, SyncHistoryRepository
    from booksync.imports.service import ImportService

    return ImportService(
        store=ImportRepository(),
        connections=ConnectionRepository(),
        tokens=token_manager(),
        source_for=providers.importer,
        history=SyncHistoryRepository(),
        notifier=notification_service(),
        requeue=requeue_import,
        queue=sync_queue(),
    )


def requeue_import(company_id: str, provider: str, run_id: str, seq: int) -> None:
    """Continue an import run in a new invocation: the same ImportQueue message shape, a new de-duplication id."""
    import hashlib
    import json

    body = {"companyId": company_id, "provider": provider, "runId": run_id, "kind": "weekly", "continue": seq}
    sqs_client().send_message(
        QueueUrl=get_settings().import_queue_url,
        MessageBody=json.dumps(body, separators=(",", ":")),
        MessageGroupId=f"{company_id}#{provider}"[:128],
        MessageDeduplicationId=hashlib.sha256(f"{run_id}#{company_id}#{provider}#{seq}".encode()).hexdigest(),
    )


def enqueue_backfill(company_id: str, provider: str, run_id: str, seq: int = 0) -> None:
    """Queue a backfill run (or its continuation) on the ImportQueue, in the company+provider group."""
    import hashlib
    import json

    from booksync.sync.messages import backfill_message

    body = backfill_message(company_id, provider, run_id, seq)
    sqs_client().send_message(
        QueueUrl=get_settings().import_queue_url,
        MessageBody=json.dumps(body, separators=(",", ":")),
        MessageGroupId=f"{company_id}#{provider}"[:128],
        MessageDeduplicationId=hashlib.sha256(f"backfill#{run_id}#{company_id}#{provider}#{seq}".encode()).hexdigest(),
    )


# ---- provider pacing (booksync.ratelimit) ----------------------------------------------------------------------------
@lru_cache(maxsize=1)
def rate_pacer() -> Any:
    """The per-tenant provider budget every provider HTTP call consults (tests swap its clock and sleeps)."""
    from booksync.adapters.dynamodb import RateBudgetRepository
    from booksync.ratelimit import Pacer

    timeout = get_settings().provider_timeout_seconds
    return Pacer(store=RateBudgetRepository(), lease_seconds=3 * timeout + 5)


def reset() -> None:
    """Forget every cached client, service and provider adapter (tests call this between AWS set-ups)."""
    from booksync import providers
    from booksync.providers import http

    for fn in (
        sqs_client,
        catalog_service,
        sync_queue,
        invoice_service,
        notification_service,
        integration_service,
        sync_service,
        oauth_service,
        weekly_fan_out,
        kms_client,
        token_cipher,
        token_manager,
        sync_engine,
        import_service,
        rate_pacer,
    ):
        fn.cache_clear()
    get_settings.cache_clear()
    providers.reset()
    http.client.cache_clear()
