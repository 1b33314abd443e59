"""A fleet of real worker processes on a PostgreSQL cluster of the test's own, whose server is
restarted (or crashed) mid-run, or whose every session is ended with ``pg_terminate_backend``:
no acknowledged job is lost, and the workers recover by themselves (they drain what is left,
and an idle one is woken again by NOTIFY, so its listening connection came back too)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.backends.support.pg_cluster import Cluster, wait_accepting
from tests.worker.pool import Pool, wait_until
from tests.worker.pool_jobs import QUEUE
from zerog.errors import BackendError
from zerog.record import JobSpec
from zerog.store import Store, open_store

JOBS = 150
DRAIN_SECONDS = 240.0  # a loaded machine, jobs whose settlement was lost wait out their TTR.
TTR_SECONDS = 5.0  # a job whose settlement was lost is rescued this soon after.
POLL_SECONDS = "5"  # an idle worker that starts a job sooner was woken, not polling.


@pytest.fixture
def url(cluster: Cluster) -> str:
    return f"{cluster.url()}?schema=t_{uuid.uuid4().hex[:16]}"


def _specs(count: int) -> list[JobSpec]:
    return [
        JobSpec(type="pool_sleep", queue=QUEUE, values={"seconds": 0.01}, ttr_seconds=TTR_SECONDS)
        for _ in range(count)
    ]


def _enqueue(store: Store, count: int) -> list[str]:
    """Put ``count`` jobs, retrying a batch the server refused (it was not acknowledged)."""
    deadline = time.monotonic() + DRAIN_SECONDS
    while True:
        try:
            return store.enqueue_many(_specs(count))
        except BackendError:
            assert time.monotonic() < deadline, "the store never took the jobs"
            time.sleep(0.2)


def _complete(store: Store, uuids: list[str]) -> bool:
    try:
        counts = store.backend.counts().get(QUEUE, {})
    except BackendError:
        return False
    return counts.get("complete", 0) == len(uuids) and sum(counts.values()) == len(uuids)


def _run_through(url: str, tmp_path: Path, disrupt: Callable[[], None]) -> None:
    """Drain jobs with 2 worker processes x 2 threads, ``disrupt`` the server when a third are
    done, put more while it recovers; every acknowledged job must complete, once the store is
    reachable again, and an idle worker must be woken by a put afterwards."""
    store = open_store(url)
    env = {"ZEROG_POLL_INTERVAL_SECONDS": POLL_SECONDS}
    flags = ("-q", QUEUE, "--workers", "2", "--threads", "2")
    try:
        with Pool(url, tmp_path / "pool.log", *flags, env=env) as pool:
            acknowledged = _enqueue(store, JOBS)
            wait_until(lambda: _done(store) >= JOBS // 3, DRAIN_SECONDS, "a third done")
            disrupt()
            acknowledged += _enqueue(store, JOBS // 3)
            wait_until(lambda: _complete(store, acknowledged), DRAIN_SECONDS, pool.log())
            for one in acknowledged:
                assert store.get(one)["state"] == "complete"
            assert pool.proc.poll() is None, pool.log()
            _assert_woken(store)
    finally:
        store.close()


def _done(store: Store) -> int:
    try:
        return int(store.backend.counts().get(QUEUE, {}).get("complete", 0))
    except BackendError:
        return 0


def _assert_woken(store: Store) -> None:
    """An idle worker starts a new job long before its 5 s poll: NOTIFY reaches it again."""
    time.sleep(1.0)  # every thread idle, waiting (the wait is measured, this is no assertion).
    latencies = []
    for _ in range(3):
        one = store.enqueue(JobSpec(type="pool_sleep", queue=QUEUE, ttr_seconds=TTR_SECONDS))
        record = wait_until(
            lambda one=one: (r := store.get(one))["state"] == "complete" and r, 60, "done"
        )
        latencies.append(float(record["started_at"]) - float(record["created_at"]))
    assert min(latencies) < 4.0, latencies


@pytest.mark.parametrize("mode", ["fast", "immediate"])
def test_a_server_restart_mid_run_loses_no_acknowledged_job(
    cluster: Cluster, url: str, tmp_path: Path, mode: str
) -> None:
    def restart() -> None:
        cluster.restart(mode)  # immediate: as a crash, the server recovers from its WAL.
        wait_accepting(cluster)

    _run_through(url, tmp_path, restart)


def test_terminating_every_session_mid_run_loses_no_acknowledged_job(
    cluster: Cluster, url: str, tmp_path: Path
) -> None:
    def terminate() -> None:
        for _ in range(3):  # again as they reconnect: claims, settlements, listeners, puts.
            with cluster.connect() as admin:
                ended = admin.execute(
                    "SELECT count(*) FROM (SELECT pg_terminate_backend(pid, 5000) "
                    "FROM pg_stat_activity WHERE backend_type = 'client backend' "
                    "AND pid <> pg_backend_pid()) AS t"
                ).fetchone()
            assert ended is not None
            assert ended[0] > 0
            time.sleep(0.3)  # let them reconnect between rounds (not an assertion).

    _run_through(url, tmp_path, terminate)
