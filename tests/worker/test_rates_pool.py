"""Rate limits and fair share under real worker processes (issue 20, items 3 and 4).

Four worker processes drain a rate-limited queue: the start times the store recorded never
hold more than the limit in any window of its period. Two tenants share a queue, one with
1,000 jobs put first and one with 10: every job of the small tenant starts before the big
tenant's 50th. Both on SQLite and PostgreSQL (the store's clock, a claim's lock).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.backends.support import postgres_server
from tests.worker.pool import Pool, wait_until
from tests.worker.pool_jobs import SleepJob
from zerog.record import JobSpec
from zerog.store import Store, open_store

RATE, PER, JOBS = 20, 1.0, 300


def _sqlite(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'jobs.db'}"


URLS: dict[str, Callable[[Path], str]] = {
    "sqlite": _sqlite,
    "postgres": lambda _tmp: postgres_server.url(),
}


def _specs(queue: str, count: int, **more: object) -> list[JobSpec]:
    return [JobSpec(type=SleepJob.JOB_TYPE, queue=queue, **more) for _ in range(count)]  # type: ignore[arg-type]


def _started(store: Store, uuids: list[str]) -> list[float]:
    """The start times the store recorded of those jobs that started."""
    found = (store.get(uuid).get("started_at") for uuid in uuids)
    return sorted(float(at) for at in found if at is not None)


def _complete(store: Store, uuids: list[str]) -> bool:
    return all(store.get(uuid)["state"] == "complete" for uuid in uuids)


@pytest.mark.parametrize("kind", list(URLS))
def test_a_rate_limit_holds_across_four_worker_processes(kind: str, tmp_path: Path) -> None:
    # Given 300 jobs in a queue limited to 20 starts per second
    url = URLS[kind](tmp_path)
    store = open_store(url)
    store.set_rate_limit("queue:rated", RATE, per=PER)
    uuids = store.enqueue_many(_specs("rated", JOBS))
    # When four worker processes drain it
    flags = ("-q", "rated", "--workers", "4", "--threads", "2")
    with Pool(url, tmp_path / "pool.log", *flags):
        wait_until(lambda: _complete(store, uuids), 120, "all rated jobs complete")
    # Then no window of one second holds more than 20 of the recorded starts
    starts = _started(store, uuids)
    assert len(starts) == JOBS
    crowded = [
        (starts[i], starts[i + RATE])
        for i in range(len(starts) - RATE)
        if starts[i + RATE] - starts[i] < PER - 1e-6
    ]
    assert not crowded, f"{RATE + 1} starts within {PER} s: {crowded[:3]}"
    # and the limit was used, not starved: the drain took about JOBS / RATE seconds
    assert starts[-1] - starts[0] < 4 * JOBS / RATE
    store.close()


@pytest.mark.parametrize("kind", list(URLS))
def test_a_small_tenant_is_not_starved_by_a_big_one(kind: str, tmp_path: Path) -> None:
    # Given a big tenant's 1,000 jobs put before a small tenant's 10, in one queue
    url = URLS[kind](tmp_path)
    store = open_store(url)
    big = store.enqueue_many(_specs("shared", 1000, fair_key="big"))
    small = store.enqueue_many(_specs("shared", 10, fair_key="small"))
    # When four worker processes work the queue
    flags = ("-q", "shared", "--workers", "4", "--threads", "2")
    with Pool(url, tmp_path / "pool.log", *flags):
        wait_until(lambda: _complete(store, small), 90, "the small tenant's jobs complete")
    # Then every small job started before the big tenant's 50th
    last_small = _started(store, small)[-1]
    big_before = [at for at in _started(store, big) if at <= last_small]
    assert len(big_before) < 50, f"{len(big_before)} big jobs started before the last small one"
    store.close()
