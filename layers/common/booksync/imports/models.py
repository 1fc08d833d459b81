"""Import runs as the service, the checkpoint store and the health screen see them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from pydantic import Field

from booksync.schema_base import ApiModel


class RunStatus(StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"


class KindCounts(ApiModel):
    read: int = 0
    created: int = 0
    updated: int = 0
    linked: int = 0  # an existing BlueClerk record matched by its natural key and linked
    unchanged: int = 0
    conflicts: int = 0  # a local change not yet pushed was kept (the conflict rule)
    skipped: int = 0
    errors: int = 0
    deleted: int = 0  # deleted in the books (recorded in the sync history; BlueClerk keeps its record)

    def add(self, other: KindCounts) -> KindCounts:
        return KindCounts(**{k: getattr(self, k) + getattr(other, k) for k in KindCounts.model_fields})


class RunError(ApiModel):
    code: str
    message: str
    entity_type: str | None = None
    provider_id: str | None = None
    at: dt.datetime


class ImportRun(ApiModel):
    """One run for one (company, provider): its checkpoint (cursor + counts) and its outcome."""

    run_id: str
    provider: str
    trigger: str = "weekly"  # weekly | manual
    kinds: list[str] = Field(default_factory=list)
    status: RunStatus = RunStatus.RUNNING
    since: dt.datetime | None = None
    cursor: str | None = None
    pages: int = 0
    calls: int = 0
    counts: dict[str, KindCounts] = Field(default_factory=dict)
    by_class: dict[str, int] = Field(default_factory=dict)
    errors: list[RunError] = Field(default_factory=list)  # the latest few
    error_count: int = 0
    last_error: str | None = None
    started_at: dt.datetime
    updated_at: dt.datetime
    finished_at: dt.datetime | None = None
    duration_ms: int = 0  # time spent working, summed over invocations
    invocations: int = 0
    watermark: dt.datetime | None = None  # the provider's clock at this run's first answer
    seq: int = 0  # optimistic lock of the checkpoint

    def totals(self) -> KindCounts:
        out = KindCounts()
        for c in self.counts.values():
            out = out.add(c)
        return out


class ImportStatus(ApiModel):
    """`health.lastImport` of GET /integrations: the latest run of this provider (finished or in progress)."""

    run_id: str
    trigger: str
    status: RunStatus
    started_at: dt.datetime
    finished_at: dt.datetime | None = None
    duration_ms: int = 0
    pages: int = 0
    calls: int = 0
    counts: dict[str, KindCounts] = Field(default_factory=dict)
    error_count: int = 0
    errors: list[RunError] = Field(default_factory=list)
    last_error: str | None = None
    last_success_at: dt.datetime | None = None
    watermark: dt.datetime | None = None

    @classmethod
    def of(cls, run: ImportRun, last_success_at: dt.datetime | None, watermark: dt.datetime | None) -> ImportStatus:
        return cls(
            run_id=run.run_id,
            trigger=run.trigger,
            status=run.status,
            started_at=run.started_at,
            finished_at=run.finished_at,
            duration_ms=run.duration_ms,
            pages=run.pages,
            calls=run.calls,
            counts=run.counts,
            error_count=run.error_count,
            errors=run.errors[-5:],
            last_error=run.last_error,
            last_success_at=last_success_at,
            watermark=watermark,
        )


@dataclass
class ImportState:
    """Per (company, provider): where the next weekly run starts, and the latest run's status."""

    watermark: dt.datetime | None = None
    watermark_kinds: list[str] = field(default_factory=list)
    last_success_at: dt.datetime | None = None
    last_import: ImportStatus | None = None


@dataclass
class Link:
    """What the store remembers about one provider record: the BlueClerk entity it became, and a digest of the
    provider content last applied (equal digest: nothing changed, nothing to write)."""

    entity_id: str | None = None
    digest: str | None = None
    classification: str | None = None  # customers: the effective class (override included)
    rule: str | None = None  # customers: the rule that decided it
    parent_id: str | None = None
    location: str | None = None
    child_locations: set[str] = field(default_factory=set)
    children: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class Local:
    """A BlueClerk record as the importer reads it: the entity and whether a push holds it right now."""

    entity: Any
    claimed: bool = False
