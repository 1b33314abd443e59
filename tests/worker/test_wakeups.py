"""An idle worker in another process starts a job within milliseconds of its put, not at its
next poll: the backend wakes it (a socket beside a SQLite file, beanstalkd's blocking reserve,
PostgreSQL's NOTIFY).

The pool polls every 5 s here, so a job started well under that was woken, not polled for.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.backends.support import beanstalkd, postgres_server
from tests.worker.pool import Pool, wait_until
from tests.worker.pool_jobs import QUEUE
from zerog.record import JobSpec
from zerog.store import Store, open_store

POLL_SECONDS = "5"
JOBS = 5


def _sqlite(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'jobs.db'}"


def _sqlite_deep(tmp_path: Path) -> str:
    """A file whose doorbell sockets beside it would pass the 107 bytes a socket path holds."""
    deep = tmp_path / ("a-directory-with-a-long-name-" * 4)
    deep.mkdir()
    return f"sqlite:///{deep / 'jobs.db'}"


def _beanstalk(tmp_path: Path) -> str:
    return beanstalkd.shared().url(tmp_path / "jobs.db")


def _postgres(tmp_path: Path) -> str:
    return postgres_server.url()


URLS: dict[str, Callable[[Path], str]] = {
    "sqlite": _sqlite,
    "sqlite-deep-path": _sqlite_deep,
    "beanstalk": _beanstalk,
    "postgres": _postgres,
}


@pytest.mark.parametrize("kind", list(URLS))
def test_a_put_in_another_process_wakes_an_idle_worker(kind: str, tmp_path: Path) -> None:
    # Given an idle pool that polls only every 5 s
    url = URLS[kind](tmp_path)
    store = open_store(url)
    log_path = tmp_path / "pool.log"
    env = {"ZEROG_POLL_INTERVAL_SECONDS": POLL_SECONDS}
    with Pool(url, log_path, "-q", QUEUE, "--workers", "1", "--threads", "2", env=env):
        wait_until(lambda: store.workers(), 60, "the worker registered")
        latencies = [_one(store) for _ in range(JOBS)]
    store.close()
    # Then each job started long before a poll would have found it
    assert statistics.median(latencies) < 1.0, latencies
    assert max(latencies) < 4.0, latencies


def _one(store: Store) -> float:
    """Put a job from this process, wait for it to finish; its start minus its put."""
    uuid = store.enqueue(JobSpec(type="pool_sleep", queue=QUEUE))
    record = wait_until(
        lambda: (r := store.get(uuid, history=False))["state"] == "complete" and r, 30, "done"
    )
    return float(record["started_at"]) - float(record["created_at"])
