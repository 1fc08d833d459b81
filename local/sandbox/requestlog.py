"""The per-provider request log, queryable through the control plane."""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

MAX_ENTRIES_PER_PROVIDER = 20_000


@dataclass
class LogEntry:
    seq: int
    provider: str
    method: str
    path: str
    query: str
    time: str
    timestamp: float
    tenant: str | None = None
    status: int | None = None
    token_refresh: bool = False
    fault: str | None = None
    outcome: str = "pending"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class RequestLog:
    def __init__(self) -> None:
        self._entries: dict[str, deque[LogEntry]] = {}
        self._seq = 0
        self._lock = threading.Lock()

    def start(self, provider: str, method: str, path: str, query: str, now: datetime) -> LogEntry:
        with self._lock:
            self._seq += 1
            entry = LogEntry(
                seq=self._seq,
                provider=provider,
                method=method,
                path=path,
                query=query,
                time=now.isoformat(),
                timestamp=now.timestamp(),
            )
            self._entries.setdefault(provider, deque(maxlen=MAX_ENTRIES_PER_PROVIDER)).append(entry)
            return entry

    @property
    def last_seq(self) -> int:
        with self._lock:
            return self._seq

    def query(
        self, provider: str | None = None, since_seq: int | None = None, since_time: float | None = None
    ) -> list[LogEntry]:
        with self._lock:
            sources = [self._entries.get(provider, deque())] if provider else list(self._entries.values())
            entries = [e for source in sources for e in source]
        if since_seq is not None:
            entries = [e for e in entries if e.seq > since_seq]
        if since_time is not None:
            entries = [e for e in entries if e.timestamp >= since_time]
        return sorted(entries, key=lambda e: e.seq)

    def clear(self, provider: str | None = None) -> None:
        with self._lock:
            if provider is None:
                self._entries.clear()
            else:
                self._entries.pop(provider, None)
