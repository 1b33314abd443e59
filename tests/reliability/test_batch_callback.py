"""A batch of 100 jobs on real worker processes whose children are SIGKILLed while the
members run: its callback runs exactly once, after every member ended, and sees how each
ended. The callback counts its runs in a file of its own (:mod:`.batch_jobs`), not in the
store under test. It runs on SQLite and Redis (the settle in a transaction, and in a Lua
script); PostgreSQL and beanstalk run the SQL engine's same steps, whose races the
conformance suite covers on every backend."""

from __future__ import annotations

import os
import random
import signal
import time
from pathlib import Path

import pytest

from tests.reliability.batch_jobs import QUEUE, CallbackJob, MemberJob
from tests.worker.pool import Pool, wait_until
from zerog.jobs import batch
from zerog.model import FINAL_STATES
from zerog.store import Store

MEMBERS = 100
FAILING = 10  # members that fail for good (WFErrorFinish): they end the batch too.
TTR_SECONDS = 2.0  # short: the runs of killed children are rescued quickly.
MARGIN = 10  # kill only while this many members are left: more than the pool runs at once,
# so that the callback cannot be ready (nor running) when a kill lands.
FINAL = frozenset(str(state) for state in FINAL_STATES)


@pytest.mark.timeout(300)
@pytest.mark.parametrize("sqlite", ["sqlite", "redis"], indirect=True)  # others: conformance.
def test_a_batch_of_100_runs_its_callback_exactly_once_with_workers_killed_between(
    sqlite: Store, tmp_path: Path
) -> None:
    effects = tmp_path / "callback.txt"
    members = [
        MemberJob(work_ms=100.0, fail=i % (MEMBERS // FAILING) == 0).spec(
            ttr=TTR_SECONDS, max_retries=1000
        )
        for i in range(MEMBERS)
    ]
    batch_id = batch(members, CallbackJob(effects=str(effects)), store=sqlite)
    flags = ("--workers", "2", "--threads", "4", "--interval", "0.05", "-q", QUEUE)
    with Pool(
        sqlite.settings.url,
        tmp_path / "pool.log",
        *flags,
        imports=("tests.reliability.batch_jobs",),
    ) as pool:
        kills = _kill_while_members_run(pool, sqlite, batch_id)
        wait_until(lambda: sqlite.get(batch_id)["state"] == "complete", 120, "the callback")
        assert pool.stop() == 0
    lines = effects.read_text().splitlines()
    assert lines == [f"callback {batch_id} 1 {MEMBERS} {MEMBERS - FAILING} {FAILING}"]
    events = [h["event"] for h in sqlite.get(batch_id)["history"]]
    assert events.count("batch-done") == 1
    assert events.count("reserved") == 1
    interrupted = _interrupted_runs(sqlite, batch_id)
    print(f"batch: {MEMBERS} members, {kills} children killed, {interrupted} runs interrupted")
    assert kills >= 2
    assert interrupted >= 1


def _interrupted_runs(store: Store, batch_id: str) -> int:
    """Members' runs that a kill ended: retried or released by the supervisor for its dead
    child, or rescued once their lease expired (a member is never retried otherwise)."""
    found = 0
    for uuid in store.batch(batch_id)["members"]:
        history = store.get(uuid)["history"]
        found += sum(h["event"] in ("retried", "released", "lease-expired") for h in history)
    return found


def _kill_while_members_run(pool: Pool, store: Store, batch_id: str) -> int:
    """SIGKILL a random child every 0.3-0.8 s while more than MARGIN members are left (and
    some member ended since the last kill: children need time to start on a loaded machine)."""
    kills, last, deadline = 0, -1, time.monotonic() + 240
    while (ended := store.batch(batch_id)["ended"]) < MEMBERS - MARGIN:
        assert time.monotonic() < deadline, f"only {ended} of {MEMBERS} members ended"
        children = pool.children()
        if ended > last and children:
            os.kill(random.choice(children), signal.SIGKILL)
            kills, last = kills + 1, ended
        time.sleep(random.uniform(0.3, 0.8))  # the monkey's pace, not a wait for an effect.
    return kills
