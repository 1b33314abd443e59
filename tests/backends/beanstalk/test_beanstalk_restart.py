"""beanstalk: beanstalkd killed and restarted (with its binlog) while real workers run jobs."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from tests.backends.support import beanstalkd
from tests.worker import pool_jobs
from tests.worker.pool import pool, wait_until
from zerog.model import ListQuery
from zerog.record import JobSpec
from zerog.store import Store

JOBS = 150


def _complete(store: Store) -> int:
    return store.counts().get(pool_jobs.QUEUE, {}).get("complete", 0)


def _records(store: Store) -> list[dict[str, object]]:
    out, cursor = [], None
    while True:
        page = store.backend.list(ListQuery(queue=pool_jobs.QUEUE, limit=500, cursor=cursor))
        out += [store.get(str(r["uuid"])) for r in page.records]
        if page.cursor is None:
            return out
        cursor = page.cursor


def test_a_beanstalkd_restart_during_a_run_loses_nothing(tmp_path: Path) -> None:
    # Given jobs being worked by a pool of two workers, on a beanstalkd with a binlog
    server = beanstalkd.Beanstalkd(tmp_path / "binlog").start()
    url = server.url(tmp_path / "jobs.db")
    store = Store.from_url(url)
    try:
        spec = JobSpec(type="pool_sleep", queue=pool_jobs.QUEUE, values={"seconds": 0.02})
        store.enqueue_many([spec] * JOBS)
        with pool(url, tmp_path, "--workers", "2") as running:
            wait_until(lambda: _complete(store) >= JOBS // 5, 60, "a fifth of the jobs done")
            # When beanstalkd is killed (SIGKILL) mid-run and started again on its binlog
            server.restart(kill=True)
            # Then the workers go on, and every job completes
            wait_until(lambda: _complete(store) == JOBS, 60, "every job done")
            assert running.stop() == 0
        # And exactly once: one "completed" per job, the last entry of its history
        records = _records(store)
        assert len(records) == JOBS
        for record in records:
            history = [h["event"] for h in record["history"]]  # type: ignore[attr-defined]
            assert Counter(history)["completed"] == 1, history
            assert history[-1] == "completed", history
    finally:
        store.close()
        server.stop()
