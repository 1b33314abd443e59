"""Per-attempt figures with real worker processes: wall time, CPU time (user and system) and
peak resident memory are stored with each attempt (``usage``, and each error's own)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import zerog
from tests.worker.pool import clean_env, pool, wait_until
from tests.worker.resource_jobs import MIB
from zerog.store import Store

IMPORTS = ("tests.worker.resource_jobs",)
ALLOCATED_MIB = 200
TOLERANCE = 0.15


def finished(store: Store, uuid: str, timeout: float = 90.0) -> dict[str, Any]:
    """The job's record once it is final."""
    return dict(
        wait_until(
            lambda: (r := store.get(uuid))["state"] in ("complete", "failed", "cancelled") and r,
            timeout,
            f"job {uuid} finished",
        )
    )


def enqueue(store: Store, job_type: str, **values: Any) -> str:
    return zerog.make_base_job(values, job_type).enqueue(store=store, ttr=60.0)


def assert_peak_of_the_allocation(usage: dict[str, Any], allocated: int = ALLOCATED_MIB) -> None:
    """The attempt's peak rose by the job's allocation, within the tolerance."""
    grown = (usage["peak_rss_bytes"] - usage["start_rss_bytes"]) / MIB
    assert abs(grown - allocated) <= allocated * TOLERANCE, usage
    assert usage["peak_rss_bytes"] >= allocated * MIB * (1 - TOLERANCE), usage


def test_a_thread_run_records_its_peak_memory_cpu_and_wall_time(
    sqlite: Store, tmp_path: Path
) -> None:
    # Given a worker process with one job thread
    url = f"sqlite:///{tmp_path / 'jobs.db'}"
    with pool(url, tmp_path, "--workers", "1", "--threads", "1", "-q", "res", imports=IMPORTS):
        # When a job writes 200 MiB, holds it, frees it, then spins for 0.3 s of CPU
        uuid = enqueue(sqlite, "res_alloc", megabytes=ALLOCATED_MIB, hold=0.3, spin=0.3)
        record = finished(sqlite, uuid)
        # (and then a smaller one, in the same process)
        smaller = finished(sqlite, enqueue(sqlite, "res_alloc", megabytes=100, hold=0.3))
    # Then its attempt's figures show the 200 MiB peak (±15%) though it ended without them,
    usage = record["usage"]
    assert record["state"] == "complete"
    assert usage["scope"] == "thread"
    assert usage["threads"] == 1
    assert usage["pid"] == record["result"]["pid"]
    assert_peak_of_the_allocation(usage)
    assert smaller["usage"]["pid"] == usage["pid"]
    assert_peak_of_the_allocation(smaller["usage"], 100)  # the mark was lowered after the first.
    # and its thread's CPU time (the spin, the writing of the block) within its wall time
    assert usage["wall_seconds"] >= 0.6
    cpu = usage["cpu_user_seconds"] + usage["cpu_system_seconds"]
    assert 0.3 <= cpu <= usage["wall_seconds"], usage
    # and `zerog job` says them, and what they are of
    shown = subprocess.run(
        [sys.executable, "-m", "zerog", "job", uuid, "--url", url],
        capture_output=True,
        text=True,
        timeout=60,
        env=clean_env(COLUMNS="250"),
        check=True,
    ).stdout
    assert "last attempt" in shown
    assert f"peak RSS {usage['peak_rss_bytes'] / MIB:.0f} MiB" in shown
    assert "(its thread)" in shown


def test_an_isolated_run_has_its_process_own_figures(sqlite: Store, tmp_path: Path) -> None:
    # Given a worker process with two job threads
    url = f"sqlite:///{tmp_path / 'jobs.db'}"
    flags = ("--workers", "1", "--threads", "2", "-q", "res")
    with pool(url, tmp_path, *flags, imports=IMPORTS) as running:
        # When a job of a class that asks for a process of its own writes 200 MiB
        uuid = enqueue(sqlite, "res_alloc_isolated", megabytes=ALLOCATED_MIB, hold=0.3, spin=0.3)
        record = finished(sqlite, uuid)
        workers = running.children()
    # Then it ran in a process that was not the worker's, and its figures are that process's
    usage = record["usage"]
    assert record["state"] == "complete", record["errors"]
    assert usage["scope"] == "process"
    assert usage["pid"] == record["result"]["pid"]
    assert record["result"]["pid"] not in workers
    assert_peak_of_the_allocation(usage)
    cpu = usage["cpu_user_seconds"] + usage["cpu_system_seconds"]
    assert 0.3 <= cpu <= usage["wall_seconds"], usage
