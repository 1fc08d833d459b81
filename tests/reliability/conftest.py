"""Fixtures of the reliability suite: the provider world, the figures recorder, and the log scan for secrets.

Every log record any logger emits during a reliability test (the handlers' powertools logger, the local stack, the
sandboxes, boto) is captured; at the end of the test each line is searched for every code, access token, refresh
token and client secret the sandboxes issued. One hit fails the test.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.reliability.recorder import Recorder
from tests.reliability.worlds import ProviderWorld, provider_world


class LogScan:
    """Session-wide: the secrets seen so far and every captured line (scanned per test, then forgotten)."""

    def __init__(self) -> None:
        self.secrets: set[str] = set()
        self.lines: list[str] = []
        self.scanned = 0
        self.ignored = 0
        self.lock = threading.Lock()
        # the test's own HTTP client playing the user's browser (it must send the code to our callback); lines that
        # start with one of these are the test's, not the system's
        self.client_prefixes: set[str] = set()

    def add_secrets(self, secrets: set[str]) -> None:
        with self.lock:
            self.secrets |= secrets

    def add_line(self, line: str) -> None:
        with self.lock:
            self.lines.append(line)

    def scan(self) -> tuple[int, list[str]]:
        with self.lock:
            lines, self.lines = self.lines, []
            secrets = set(self.secrets)
            prefixes = tuple(self.client_prefixes)
        own = [line for line in lines if prefixes and line.startswith(prefixes)]
        self.ignored += len(own)
        lines = [line for line in lines if not (prefixes and line.startswith(prefixes))]
        found = [f"{line[:200]}..." for line in lines if any(s in line for s in secrets)]
        self.scanned += len(lines)
        return len(lines), found


LOGS = LogScan()


class _Capture(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        try:
            parts = [record.getMessage()]
            parts += [f"{k}={v!r}" for k, v in vars(record).items() if k not in ("msg", "args", "message")]
            if record.exc_info:
                parts.append(logging.Formatter().formatException(record.exc_info))
            LOGS.add_line(" ".join(parts))
        except Exception:  # a record that cannot be rendered is kept as its repr
            LOGS.add_line(repr(vars(record)))


def _run_id(config: pytest.Config) -> str:
    workerinput = getattr(config, "workerinput", None)
    if workerinput and "testrunuid" in workerinput:
        return str(workerinput["testrunuid"])
    return uuid.uuid4().hex


@pytest.fixture(scope="session")
def recorder(request: pytest.FixtureRequest) -> Iterator[Recorder]:
    rec = Recorder(_run_id(request.config))
    yield rec
    rec.write()


@pytest.fixture
def mode(request: pytest.FixtureRequest) -> str:
    return "soak" if request.node.get_closest_marker("soak") else "short"


Record = Callable[..., None]


@pytest.fixture
def record(recorder: Recorder, mode: str) -> Record:
    def _record(scenario: str, provider: str, **figures: Any) -> None:
        recorder.record(scenario, provider, mode, **figures)

    return _record


@pytest.fixture(autouse=True)
def scan_logs(request: pytest.FixtureRequest, recorder: Recorder) -> Iterator[None]:
    """Capture every log record of the test; fail it if any line holds a secret a sandbox issued."""
    handler = _Capture(level=logging.DEBUG)
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(min(old_level, logging.INFO) if old_level else logging.INFO)
    try:
        yield
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
    scanned, found = LOGS.scan()
    mode = "soak" if request.node.get_closest_marker("soak") else "short"
    figures = {"tests": 1, "log_lines_scanned": scanned, "max_secrets_known": len(LOGS.secrets),
               "secrets_found": len(found), "test_client_lines_skipped": LOGS.ignored}  # fmt: skip
    LOGS.ignored = 0
    recorder.record("secrets_logs", "all", mode, **figures)
    assert found == [], f"{len(found)} log lines hold a token, code or client secret: {found[:3]}"


@pytest.fixture
def world(provider: str) -> Iterator[ProviderWorld]:
    """A provider's world, connected through the real consent flow and seeded (customer, item, mapping)."""
    with provider_world(provider) as w:
        try:
            w.fast_engine()
            w.seed("co_a")
            yield w
        finally:
            LOGS.add_secrets(w.issued_secrets())
