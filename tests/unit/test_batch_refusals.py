"""A batch that every try saw refused by a rate limit reached nothing; one with any other failure may have landed.

``SyncEngine._send_batch`` records each failed try; the engine releases the elements of a batch that failed only on
429s (ours or the provider's) without counting the attempt, so the next attempt sends them without looking each one
up in the books first. Any try whose outcome is unknown (a timeout, a 5xx) keeps the lookup.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from booksync.sync.engine import SyncEngine
from booksync.sync.ports import OpResult, ProviderError, RateLimited, Ref, Unavailable


def _engine() -> Any:
    engine = SimpleNamespace(max_attempts=4, backoff_cap=0.0, clock=lambda: 0.0, sleep=lambda seconds: None)
    engine._call = lambda fn: SyncEngine._call(engine, fn)
    engine._backoff = lambda exc, attempt: SyncEngine._backoff(engine, exc, attempt)
    return engine


def _provider(*answers: BaseException | list[OpResult]) -> Any:
    queue = list(answers)

    def push_many(session: Any, ops: list[Any]) -> list[OpResult]:
        answer = queue.pop(0)
        if isinstance(answer, BaseException):
            raise answer
        return answer

    return SimpleNamespace(push_many=push_many)


def _send(provider: Any) -> tuple[list[OpResult] | ProviderError, list[bool]]:
    refused: list[bool] = []
    try:
        return SyncEngine._send_batch(_engine(), provider, None, ["op"], None, refused), refused  # type: ignore[arg-type]
    except ProviderError as exc:
        return exc, refused


def test_a_batch_refused_on_every_try_is_known_unsent() -> None:
    limited = RateLimited("minute", retry_after=0.0)
    outcome, refused = _send(_provider(limited, limited, limited, limited))
    assert outcome is limited
    assert refused == [True, True, True, True] and all(refused)


@pytest.mark.parametrize("unknown", [Unavailable("timed out"), Unavailable("502 Bad Gateway")])
def test_a_batch_with_any_try_of_unknown_outcome_is_not(unknown: ProviderError) -> None:
    limited = RateLimited("minute", retry_after=0.0)
    outcome, refused = _send(_provider(unknown, limited, limited, limited))
    assert outcome is limited
    assert refused == [False, True, True, True]


def test_an_unexpected_error_is_raised_and_recorded_as_unknown() -> None:
    refused: list[bool] = []
    with pytest.raises(RuntimeError):
        SyncEngine._send_batch(_engine(), _provider(RuntimeError("socket closed")), None, ["op"], None, refused)  # type: ignore[arg-type]
    assert refused == [False]


def test_a_batch_answered_after_a_refusal_returns_its_results() -> None:
    results = [OpResult(ref=Ref(id="1", version="0"))]
    outcome, refused = _send(_provider(RateLimited("minute", retry_after=0.0), results))
    assert outcome == results and refused == [True]
