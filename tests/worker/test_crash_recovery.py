"""Worker processes killed mid-job: nothing is lost, checkpoints are kept, poison ends."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import zerog
from tests.worker.pool import enqueue, events, pool, wait_until, worker_pid
from zerog.store import Store


def test_sigkill_of_a_child_mid_job_reruns_it_at_once_from_its_checkpoint(
    sqlite: Store, tmp_path: Path
) -> None:
    # Given a pool whose child saved stage 1 of a job and hangs in it
    marker = tmp_path / "mid-job"
    uuid = enqueue(sqlite, "pool_checkpoint", ttr=60.0, marker=str(marker))
    with pool(sqlite.settings.url, tmp_path, "--workers", "2") as running:
        wait_until(marker.exists, what="the job's first run")
        # When that child is killed with SIGKILL
        os.kill(int(marker.read_text()), signal.SIGKILL)
        # Then the supervisor puts the job back at once (its 60 s lease is not waited for),
        # and a child resumes it from stage 1 and completes it
        wait_until(lambda: sqlite.get(uuid)["state"] == "complete", 20, "completion")
        assert running.stop() == 0
    job = zerog.get_job(uuid)
    assert events(sqlite.get(uuid)) == ["put", "reserved", "retried", "reserved", "completed"]
    assert "killed by SIGKILL" in job.errors[-1]["msg"]
    assert [e["msg"].split(" by ")[0] for e in job.events] == [
        "checkpoint saved",
        "resumed from step 1",
    ]
    assert job.attempts == 2


def test_sigkill_of_the_whole_pool_the_lease_expires_and_another_pool_resumes(
    sqlite: Store, tmp_path: Path
) -> None:
    # Given a job that saved its checkpoint and hangs, under a pool that is then killed whole
    # (supervisor and children: nothing is left to put the job back)
    marker = tmp_path / "mid-job"
    uuid = enqueue(sqlite, "pool_checkpoint", ttr=2.0, marker=str(marker))
    with pool(sqlite.settings.url, tmp_path, "--workers", "1") as first:
        wait_until(marker.exists, what="the job's first run")
        os.killpg(first.pid, signal.SIGKILL)
        first.proc.wait(10)
    assert sqlite.get(uuid)["state"] == "running"
    # When another pool starts / Then it rescues the job once its lease expired, and resumes it
    with pool(sqlite.settings.url, tmp_path, "--workers", "1") as second:
        wait_until(lambda: sqlite.get(uuid)["state"] == "complete", 20, "completion")
        assert second.stop() == 0
    record = sqlite.get(uuid)
    assert events(record) == ["put", "reserved", "lease-expired", "reserved", "completed"]
    assert record["values"]["steps"] == 2


def test_a_job_that_kills_its_process_fails_while_the_pool_serves_the_others(
    sqlite: Store, tmp_path: Path
) -> None:
    # Given a job that kills the process running it, among ordinary jobs
    poison = enqueue(sqlite, "pool_poison", ttr=30.0)
    others = [enqueue(sqlite, "pool_sleep", seconds=0.05) for _ in range(10)]
    with pool(sqlite.settings.url, tmp_path, "--workers", "2") as running:
        # When the pool runs them / Then the poison ends failed, "worker lost", after its
        # one retry (each of its two attempts killed a child), and the others complete
        wait_until(lambda: sqlite.get(poison)["state"] == "failed", 30, "the poison failed")
        wait_until(
            lambda: all(sqlite.get(u, history=False)["state"] == "complete" for u in others),
            30,
            "the other jobs",
        )
        children = running.wait_children(2)  # replaced: the pool is whole again.
        assert running.stop() == 0
    record = sqlite.get(poison)
    assert record["attempts"] == 2
    assert "worker lost" in record["errors"][-1]["msg"]
    assert "exited with code 17" in record["errors"][-1]["msg"]
    assert events(record)[-1] == "failed"
    killed = {worker_pid(h["worker"]) for h in record["history"] if h["event"] == "reserved"}
    assert not killed & set(children)
    assert "respawning" in running.log()
