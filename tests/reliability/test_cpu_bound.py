"""A CPU-bound job keeps its lease: a pure-Python loop through the heartbeat thread, a C call
that holds the GIL for seconds through the supervisor."""

from __future__ import annotations

from pathlib import Path

from tests.worker.pool import enqueue, events, pool, wait_until
from zerog.store import Store

TTR = 3.0  # the supervisor's renewal needs a TTR of 3 s or more (see tracking.SILENT_SECONDS).


def test_a_pure_python_busy_loop_keeps_its_lease(sqlite: Store, tmp_path: Path) -> None:
    # Given a job spinning in Python for three times its TTR
    uuid = enqueue(sqlite, "pool_spin", ttr=1.5, seconds=4.5)
    with pool(sqlite.settings.url, tmp_path, "--workers", "2") as running:
        # When it runs / Then its lease never expires: one run, completed
        wait_until(lambda: sqlite.get(uuid)["state"] == "complete", 30, "completion")
        assert running.stop() == 0
    record = sqlite.get(uuid)
    assert events(record) == ["put", "reserved", "completed"]
    assert record["attempts"] == 1


def test_a_c_call_holding_the_gil_keeps_its_lease(sqlite: Store, tmp_path: Path) -> None:
    # Given a job whose re.match holds the GIL for well over its TTR: the child's heartbeat
    # thread cannot run at all meanwhile
    uuid = enqueue(sqlite, "pool_regex", ttr=TTR, seconds=2.5 * TTR, steps=1)
    with pool(sqlite.settings.url, tmp_path, "--workers", "2") as running:
        # When it runs / Then the supervisor renews the lease for the starved child: the other
        # child never rescues it, and it completes in one run
        wait_until(lambda: sqlite.get(uuid)["state"] == "complete", 60, "completion")
        assert running.stop() == 0
    record = sqlite.get(uuid)
    assert events(record) == ["put", "reserved", "completed"]
    assert record["result"]["held"] > TTR  # renewed by nobody, the lease would have expired.
    assert "busy without heartbeats (a C call holding the GIL?)" in running.log()
