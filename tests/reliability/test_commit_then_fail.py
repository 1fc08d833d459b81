"""3. Commit-then-fail on every create (customer, item, invoice, payment) of every provider: the provider stores the
object, then answers 500 or drops the connection. And a Lambda that really dies (``os._exit(137)`` in a child
process) between the provider's answer and our write, then the message is redelivered. -> 0 duplicates after
recovery. Short: each create once (modes alternate), the death on the payment create; soak: both modes on every
create, the death on every create."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from tests.helpers import ROOT
from tests.reliability.conftest import LOGS, Record
from tests.reliability.worlds import KINDS, PROVIDERS, ProviderWorld

pytestmark = [pytest.mark.moto_server, pytest.mark.parametrize("provider", PROVIDERS)]

MODES = ("commit_then_500", "commit_then_drop")


def _commit_then_fail(world: ProviderWorld, record: Record, cases: list[tuple[str, str]]) -> None:
    duplicates = 0
    for kind, mode in cases:
        before = world.counts()
        invoice = world.fresh_invoice()
        world.pay(invoice["id"], "350.00")
        # Given the provider will store the next create of this kind and then fail its answer
        world.create_fault(kind, mode)
        # When the user clicks Sync (retries replay the idempotency key, or look before creating again)
        r = world.resync(invoice["id"])
        assert world.pending_faults() == 0, f"{kind}/{mode}: the fault never fired"
        # Then everything is synced, and the books gained exactly one of each, also after the queued pushes ran
        assert r.status == 200, (kind, mode, r.body)
        assert r.body["invoice"]["status"] == "synced"
        assert [p["status"] for p in r.body["payments"]] == ["synced"]
        world.drain_all()
        after = world.counts()
        gained = {k: after[k] - before[k] for k in KINDS}
        duplicates += sum(max(0, n - 1) for n in gained.values())
        assert gained == dict.fromkeys(KINDS, 1), (kind, mode, gained)
    record("commit_then_fail", world.name, cases=len(cases), kinds=len({k for k, _ in cases}),
           modes=len({m for _, m in cases}), duplicates=duplicates, lost=0)  # fmt: skip


def _die_then_redeliver(world: ProviderWorld, record: Record, kinds: tuple[str, ...]) -> None:
    duplicates = 0
    deaths = 0
    for kind in kinds:
        before = world.counts()
        invoice = world.fresh_invoice()  # its push is queued on the invoice sync queue
        world.pay(invoice["id"], "350.00")
        # Given a Lambda takes the invoice's message and dies the moment the provider answered the create of KIND
        env = {
            **os.environ,
            "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'layers' / 'common'}",
            "BOOKSYNC_PROVIDER_PACING": "off",
        }  # one push: far below any limit, and no real-time pacing waits
        child = subprocess.run(
            [
                sys.executable,
                "-m",
                "tests.reliability.dying_lambda",
                world.name,
                kind,
                world.aws["queues"]["invoice-sync"],
                "sync_invoice",
            ],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        for line in (child.stdout + child.stderr).splitlines():
            LOGS.add_line(line)
        assert child.returncode == 137, f"{kind}: exit {child.returncode}\n{child.stderr[-2000:]}"
        deaths += 1
        assert world.counts()[kind] == before[kind] + 1  # the provider did store it; we never linked it
        # When the message is redelivered after its visibility timeout and the dead claim's lease (and after the
        # provider forgot any idempotency key: 400 s on its clock)
        from booksync import wiring

        engine = wiring.sync_engine()
        world.advance_clock(400)
        engine.clock = lambda late=engine.lease_seconds + 5: time.time() + late
        try:
            deadline = time.monotonic() + 90
            while world.invoice(invoice["id"])["providerIds"].get(world.name) is None or any(
                not p["providerIds"].get(world.name) for p in world.invoice(invoice["id"])["payments"]
            ):
                assert time.monotonic() < deadline, f"{kind}: never recovered"
                time.sleep(0.5)  # the queue's visibility timeout (2 s) runs out
                world.drain_all()
        finally:
            engine.clock = time.time
        # Then it found what the dead Lambda created instead of creating it again
        after = world.counts()
        gained = {k: after[k] - before[k] for k in KINDS}
        duplicates += sum(max(0, n - 1) for n in gained.values())
        assert gained == dict.fromkeys(KINDS, 1), (kind, gained)
    record("lambda_death", world.name, deaths=deaths, kinds=",".join(kinds), exit_status=137,
           duplicates=duplicates, lost=0)  # fmt: skip


def test_commit_then_fail_on_every_create(world: ProviderWorld, record: Record) -> None:
    _commit_then_fail(world, record, [(k, MODES[i % 2]) for i, k in enumerate(KINDS)])


def test_lambda_killed_after_the_provider_answered_then_redelivered(world: ProviderWorld, record: Record) -> None:
    _die_then_redeliver(world, record, ("payment",))


@pytest.mark.soak
@pytest.mark.timeout(3600)
def test_commit_then_fail_soak(world: ProviderWorld, record: Record) -> None:
    _commit_then_fail(world, record, [(k, m) for k in KINDS for m in MODES])


@pytest.mark.soak
@pytest.mark.timeout(3600)
def test_lambda_killed_soak(world: ProviderWorld, record: Record) -> None:
    _die_then_redeliver(world, record, KINDS)
