"""Real worker processes killed mid-job: nothing is lost, checkpoints are kept, poison ends."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import zerog
from tests.worker import crash_jobs

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def store(tmp_path):
    url = f"sqlite:///{tmp_path / 'crash.db'}"
    store = zerog.use(url)
    yield store
    zerog.use(None)
    store.close()


def start_worker(store, *extra: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "ZEROG_URL": store.settings.url, "ZEROG_RESCUE_INTERVAL_SECONDS": "0.5"}
    log = Path(store.settings.url.removeprefix("sqlite:///")).with_suffix(".log")
    with log.open("ab") as output:  # the child keeps its own copy of the descriptor.
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "zerog",
                "worker",
                "--path",
                str(ROOT),
                "--import",
                "tests.worker.crash_jobs",
                "-q",
                "crash",
                *extra,
            ],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )


def wait_for(predicate, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.05)


def test_sigkill_mid_job_reruns_from_the_last_checkpoint(store, tmp_path):
    marker = tmp_path / "mid-job"
    uuid = zerog.make_base_job({"marker": str(marker)}, "crash_checkpoint").enqueue()
    first = start_worker(store)
    try:
        # Given the job saved stage 1 and is hanging mid-run,
        wait_for(marker.exists)
        # When its worker is killed with SIGKILL,
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    finally:
        first.kill()
    assert store.get(uuid)["state"] == "running"
    # Then another worker rescues it after its lease expires and resumes from stage 1.
    second = start_worker(store)
    try:
        wait_for(lambda: store.get(uuid)["state"] == "complete")
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(30)
    job = zerog.get_job(uuid)
    assert [e["msg"] for e in job.events] == ["stage 1 saved", "resumed at stage 1"]
    assert job.stage == 2
    assert len(job.runs) == 2
    history = [h["event"] for h in job.history]
    assert history == ["put", "reserved", "lease-expired", "reserved", "completed"]
    assert second.returncode == 0


def test_a_job_that_kills_its_worker_ends_failed_after_its_retries(store):
    uuid = zerog.make_base_job({}, "crash_poison").enqueue()
    # Each worker that takes it dies; the attempts are counted at reserve.
    for _ in range(crash_jobs.PoisonJob.MAX_RETRIES + 1):
        worker = start_worker(store, "--burst")
        assert worker.wait(30) == 17
        wait_for(
            lambda: (
                store.get(uuid)["lease_expires_at"] is None
                or store.get(uuid)["lease_expires_at"] < time.time()
            ),
            10,
        )
    survivor = start_worker(store, "--burst")
    wait_for(lambda: store.get(uuid)["state"] == "failed", 10)
    assert survivor.wait(30) == 0
    record = store.get(uuid)
    assert record["attempts"] == 2
    assert "worker lost" in record["errors"][-1]["msg"]
    assert record["history"][-1]["event"] == "failed-worker-lost"
