"""A worker whose store cannot be written: a burst fails loudly, a pool tells it once and
recovers. The store is a real SQLite file on a small tmpfs of the test's own, filled up or
remounted read-only (the tests run as root, as `make test` does)."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import disks
from tests.worker.pool import ROOT, Pool, clean_env, wait_until
from tests.worker.pool_jobs import QUEUE
from zerog.record import JobSpec
from zerog.store import Store, open_store


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 4 MiB tmpfs mounted for the test, unmounted after."""
    with disks.small_disk(tmp_path / "disk") as where:
        yield where


@pytest.fixture
def store_on(small_disk: Path) -> Iterator[Store]:
    """A store on the small disk with 5 jobs waiting, kept open by the test: its WAL and
    shared-memory files stay, so a worker opens the store and fails at its first write."""
    store = open_store(f"sqlite:///{small_disk / 'jobs.db'}")
    store.enqueue_many(JobSpec(type="pool_sleep", queue=QUEUE) for _ in range(5))
    try:
        yield store
    finally:
        store.close()


_fill = disks.fill


def _burst(url: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    command = [
        sys.executable,
        "-m",
        "zerog",
        "worker",
        "--burst",
        "--url",
        url,
        "--path",
        str(ROOT),
        "--import",
        "tests.worker.pool_jobs",
        "-q",
        QUEUE,
        "--workers",
        "1",
    ]
    return subprocess.run(
        command, env=clean_env(), cwd=tmp_path, capture_output=True, text=True, timeout=120
    )


def test_a_burst_on_a_full_disk_exits_non_zero_and_names_the_failure(
    small_disk: Path, store_on: Store, tmp_path: Path
) -> None:
    # Given jobs waiting in a store whose disk is full
    _fill(small_disk)
    # When a burst worker runs / Then it fails, saying what it could not do and why, once
    done = _burst(store_on.settings.url, tmp_path)
    assert done.returncode != 0, done.stderr
    assert "claiming up to" in done.stderr
    assert "database or disk is full" in done.stderr
    assert done.stderr.count("claims: claiming") == 1  # told once, with its traceback.
    assert store_on.counts()[QUEUE] == {"waiting": 5}


def test_a_burst_on_a_read_only_store_exits_non_zero(
    small_disk: Path, store_on: Store, tmp_path: Path
) -> None:
    # Given the store's files made immutable (root writes through plain permissions)
    files = [str(small_disk / "jobs.db"), str(small_disk / "jobs.db-wal")]
    subprocess.run(["chattr", "+i", *files], check=True)
    try:
        done = _burst(store_on.settings.url, tmp_path)
    finally:
        subprocess.run(["chattr", "-i", *files], check=True)
    # Then the burst fails, naming the store
    assert done.returncode != 0, done.stderr
    assert "jobs.db" in done.stderr


def test_a_burst_that_cannot_open_its_store_exits_non_zero(
    small_disk: Path, tmp_path: Path
) -> None:
    # Given a store closed cleanly, on a disk that is full
    store = open_store(f"sqlite:///{small_disk / 'jobs.db'}")
    store.enqueue(JobSpec(type="pool_sleep", queue=QUEUE))
    store.close()
    _fill(small_disk)
    # When a burst worker starts / Then it cannot open it, and says so in one line
    done = _burst(f"sqlite:///{small_disk / 'jobs.db'}", tmp_path)
    assert done.returncode != 0
    assert "jobs.db" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_pool_tells_a_lasting_failure_once_and_recovers(
    small_disk: Path, store_on: Store, tmp_path: Path
) -> None:
    # Given a pool on a store whose disk is full, with jobs waiting
    url = store_on.settings.url
    filler = _fill(small_disk)
    log_path = tmp_path / "pool.log"
    with Pool(url, log_path, "-q", QUEUE, "--workers", "1", "--threads", "2"):
        wait_until(lambda: "claims: claiming" in log_path.read_text(), 60, "the first failure")
        # When the failure lasts a while / Then it was told with one traceback, not one a try
        time.sleep(3)  # dozens of claims fail meanwhile (they back off to 5 s at most).
        text = log_path.read_text()
        assert text.count("claims: claiming") == 1, text  # told once, with its traceback;
        assert text.count("Traceback (most recent call last)") <= 4, text  # not one per try.
        # And when space comes back, the jobs run and the recovery is told
        filler.unlink()
        wait_until(lambda: "working again" in log_path.read_text(), 60, "the recovery")
        wait_until(lambda: store_on.counts()[QUEUE].get("complete") == 5, 60, "the jobs done")
