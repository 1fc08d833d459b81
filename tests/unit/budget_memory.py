"""The pacer's ``BudgetStore`` contract in memory, for unit tests of ``booksync.ratelimit``.

Writes are conditional on the version (as the DynamoDB store's), ``block`` never shortens a block, and it is
thread-safe. ``hold`` makes the first read of each of that many threads wait for the others: all read the same
version, then all write, so only the conditional write keeps Lambdas observing at once from undoing each other.
"""

from __future__ import annotations

import dataclasses
import threading

from booksync.ratelimit import Budget


class MemoryStore:
    def __init__(self, hold: int = 0, block_tokens: float = 0.0) -> None:
        self.items: dict[str, Budget] = {}
        self.writes: dict[str, int] = {}  # accepted writes per key
        self.rejected = 0  # writes refused for a stale version
        self.lock = threading.Lock()
        self.block_tokens = block_tokens  # tokens of a budget first written by a block
        self._barrier = threading.Barrier(hold) if hold else None
        self._held: set[int] = set()

    def read(self, key: str) -> Budget | None:
        with self.lock:
            item = self.items.get(key)
        if self._barrier is not None:
            with self.lock:
                first = threading.get_ident() not in self._held
                self._held.add(threading.get_ident())
            if first:
                self._barrier.wait(timeout=10)
        return item

    def write(self, key: str, budget: Budget, expected_version: int | None) -> bool:
        with self.lock:
            current = self.items.get(key)
            if (current.version if current is not None else None) != expected_version:
                self.rejected += 1
                return False
            self.items[key] = budget
            self.writes[key] = self.writes.get(key, 0) + 1
            return True

    def release(self, key: str, lease_id: str) -> Budget | None:
        with self.lock:
            current = self.items.get(key)
            if current is None:
                return None
            leases = {k: v for k, v in current.leases.items() if k != lease_id}
            self.items[key] = dataclasses.replace(current, leases=leases, version=(current.version or 0) + 1)
            return self.items[key]

    def block(self, key: str, until: float, problem: str) -> None:
        with self.lock:
            current = self.items.get(key) or Budget(tokens=self.block_tokens, refilled_at=0.0, version=0)
            if current.blocked_until < until:
                self.items[key] = dataclasses.replace(
                    current, blocked_until=until, problem=problem, version=(current.version or 0) + 1
                )
