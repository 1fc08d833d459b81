"""Fault injection rules: match provider + method + path regex, affect the next ``count`` matching requests."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from typing import Any

MODES = ("status", "timeout", "commit_then_500", "commit_then_drop")


class FaultSpecError(ValueError):
    """The fault description is invalid."""


@dataclass
class FaultRule:
    id: int
    provider: str
    mode: str
    path: str
    method: str | None = None
    status: int | None = None
    retry_after: int | None = None
    seconds: float = 30.0
    count: int | None = 1
    remaining: int | None = 1
    message: str | None = None
    hits: int = 0
    _pattern: re.Pattern[str] = field(default=re.compile(""), repr=False)

    def matches(self, provider: str, method: str, path: str) -> bool:
        if provider != self.provider:
            return False
        if self.method is not None and self.method != method.upper():
            return False
        return self._pattern.search(path) is not None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "provider": self.provider,
            "method": self.method,
            "path": self.path,
            "mode": self.mode,
            "status": self.status,
            "retry_after": self.retry_after,
            "seconds": self.seconds,
            "count": self.count,
            "remaining": self.remaining,
            "message": self.message,
            "hits": self.hits,
        }


class FaultRegistry:
    def __init__(self) -> None:
        self._rules: list[FaultRule] = []
        self._next_id = 1
        self._lock = threading.Lock()

    def add(self, spec: dict[str, Any], known_providers: set[str]) -> FaultRule:
        provider = spec.get("provider")
        if provider not in known_providers:
            raise FaultSpecError(f"unknown provider {provider!r}; known: {sorted(known_providers)}")
        mode = spec.get("mode", "status")
        if mode not in MODES:
            raise FaultSpecError(f"mode must be one of {list(MODES)}")
        path = spec.get("path", "")
        if not isinstance(path, str):
            raise FaultSpecError("path must be a regular expression string")
        try:
            pattern = re.compile(path)
        except re.error as exc:
            raise FaultSpecError(f"path is not a valid regular expression: {exc}") from exc
        method = spec.get("method")
        if method in (None, "", "*"):
            method = None
        elif not isinstance(method, str):
            raise FaultSpecError("method must be a string")
        status = spec.get("status")
        if mode == "status":
            status = 500 if status is None else status
        if status is not None and (not isinstance(status, int) or not 100 <= status <= 599):
            raise FaultSpecError("status must be an HTTP status code")
        count = spec.get("count", 1)
        if count is not None and (not isinstance(count, int) or count < 1):
            raise FaultSpecError("count must be a positive integer or null (until deleted)")
        retry_after = spec.get("retry_after")
        if retry_after is not None and (not isinstance(retry_after, int) or retry_after < 0):
            raise FaultSpecError("retry_after must be a non-negative integer (seconds)")
        seconds = spec.get("seconds", 30.0)
        if not isinstance(seconds, int | float) or seconds < 0:
            raise FaultSpecError("seconds must be a non-negative number")
        message = spec.get("message")
        with self._lock:
            rule = FaultRule(
                id=self._next_id,
                provider=provider,
                mode=mode,
                path=path,
                method=method.upper() if method else None,
                status=status,
                retry_after=retry_after,
                seconds=float(seconds),
                count=count,
                remaining=count,
                message=message if isinstance(message, str) else None,
                _pattern=pattern,
            )
            self._next_id += 1
            self._rules.append(rule)
        return rule

    def take(self, provider: str, method: str, path: str) -> FaultRule | None:
        """Return the first active rule matching the request and consume one use of it."""
        with self._lock:
            for rule in self._rules:
                if rule.matches(provider, method, path):
                    rule.hits += 1
                    if rule.remaining is not None:
                        rule.remaining -= 1
                        if rule.remaining <= 0:
                            self._rules.remove(rule)
                    return rule
        return None

    def list(self, provider: str | None = None) -> list[FaultRule]:
        with self._lock:
            return [r for r in self._rules if provider is None or r.provider == provider]

    def clear(self, provider: str | None = None, rule_id: int | None = None) -> int:
        with self._lock:
            before = len(self._rules)
            self._rules = [
                r
                for r in self._rules
                if not ((provider is None or r.provider == provider) and (rule_id is None or r.id == rule_id))
            ]
            return before - len(self._rules)
