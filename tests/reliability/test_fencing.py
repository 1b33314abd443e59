"""Fencing: a child stopped (SIGSTOP) mid-job loses its lease; resumed, it cannot write."""

from __future__ import annotations

import os
import signal
from pathlib import Path

from tests.worker.pool import enqueue, events, pool, process_state, wait_until, worker_pid
from zerog.store import Store


def test_a_resumed_child_whose_lease_was_taken_cannot_heartbeat_write_or_settle(
    sqlite: Store, tmp_path: Path
) -> None:
    # Given a job logging a line every 0.1 s, in a pool of two children
    marker = tmp_path / "running"
    uuid = enqueue(sqlite, "pool_chatty", ttr=1.5, steps=40, marker=str(marker))
    with pool(sqlite.settings.url, tmp_path, "--workers", "2") as running:
        wait_until(marker.exists, what="the first run")
        stale = int(marker.read_text())
        wait_until(lambda: sqlite.get(uuid, history=False)["events"], what="a first log line")
        # When its child is stopped, so that its lease expires
        os.kill(stale, signal.SIGSTOP)
        try:
            wait_until(lambda: process_state(stale) == "T", what="the child stopped")
            # Then the job is rescued and run to completion by the other child
            wait_until(lambda: sqlite.get(uuid)["state"] == "complete", 30, "completion")
            done = sqlite.get(uuid)
        finally:
            # And when the stopped child resumes
            os.kill(stale, signal.SIGCONT)
        wait_until(lambda: "lost the lease on job" in running.log(), 10, "the lease loss seen")
        wait_until(lambda: f"job {uuid}: lease lost" in running.log(), 10, "the run stopped")
        # Then none of its heartbeats, progress writes or settlement reached the store
        assert sqlite.get(uuid) == done
        # And it goes on serving other jobs
        later = enqueue(sqlite, "pool_sleep")
        wait_until(lambda: sqlite.get(later)["state"] == "complete", 20, "a later job")
        assert running.stop() == 0
    assert events(done)[:3] == ["put", "reserved", "lease-expired"]
    assert events(done)[-2:] == ["reserved", "completed"]
    second = [h["worker"] for h in done["history"] if h["event"] == "reserved"][-1]
    assert worker_pid(second) != stale
    # Every log line after the rescue came from the second run
    rescued_at = next(h["at"] for h in done["history"] if h["event"] == "lease-expired")
    late = [e["msg"] for e in done["events"] if e["timeStamp"] > rescued_at]
    assert late
    assert all(not line.startswith(f"{stale} ") for line in late)
