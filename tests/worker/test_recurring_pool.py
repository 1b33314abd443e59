"""Recurring jobs under a real pool of worker processes: exactly one job per tick.

Four worker processes share one SQLite file and all reserve from the recurrence's queue; each
reserve spawns what is due in its own transaction, so however they race, every tick of the
schedule spawns one job, none is skipped and none is spawned twice.
"""

from __future__ import annotations

import time
from pathlib import Path

from tests.worker.pool import Pool, wait_until
from tests.worker.pool_jobs import QUEUE
from zerog.recurrence import RecurSpec
from zerog.store import Store

INTERVAL = 0.5  # seconds between ticks
TICKS = 32  # at least 30


def test_four_worker_processes_spawn_exactly_one_job_per_tick(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'jobs.db'}"
    store = Store.from_url(url)
    with Pool(url, tmp_path / "pool.log", "--workers", "4", "--interval", "0.05") as pool:
        pool.wait_children(4)
        rid = store.recur(RecurSpec(type="pool_sleep", queue=QUEUE, interval_seconds=INTERVAL))
        started = time.time()
        wait_until(
            lambda: store.get_recurrence(rid)["count"] >= TICKS,
            timeout=TICKS * INTERVAL + 30,
            what=f"{TICKS} ticks",
        )
        pool.stop()
    elapsed = time.time() - started
    recurrence = store.get_recurrence(rid)
    spawned = store.list(recurrence=rid, limit=500).records
    ids = sorted(int(r["uuid"].rsplit("-", 1)[1]) for r in spawned)
    # One job per tick: ids 1..count with no gap, and count matches the schedule's ticks
    assert ids == list(range(1, recurrence["count"] + 1))
    ticks_by_schedule = round((recurrence["next_at"] - recurrence["created_at"]) / INTERVAL)
    assert recurrence["count"] == ticks_by_schedule
    assert TICKS <= recurrence["count"] <= elapsed / INTERVAL + 2
    # ... and each ran once
    finished = [r for r in spawned if r["state"] == "complete"]
    assert len(finished) >= TICKS - 2
    assert all(r["attempts"] == 1 for r in finished)
    store.close()
