"""Cancel of a running job: the job hears it at its next job_log call; one that does not
listen loses its process after the grace period, and still ends cancelled, not re-run."""

from __future__ import annotations

import time
from pathlib import Path

from tests.worker.pool import enqueue, events, pool, wait_until
from tests.worker.pool_jobs import regex_size_for
from zerog.store import Store

GRACE = ("--cancel-grace", "1")
TTR = 3.0  # the supervisor's renewal needs a TTR of 3 s or more (see tracking.SILENT_SECONDS).


def cancel_when_running(store: Store, uuid: str, marker: Path) -> float:
    """Cancel the job once it runs; returns when."""
    wait_until(marker.exists, what="the job running")
    assert store.act(uuid, "cancel") == "running"
    return time.monotonic()


def test_a_job_using_job_log_stops_at_its_next_call(sqlite: Store, tmp_path: Path) -> None:
    marker = tmp_path / "running"
    uuid = enqueue(sqlite, "pool_chatty", steps=600, marker=str(marker))
    with pool(sqlite.settings.url, tmp_path, "--workers", "1", *GRACE) as running:
        [child] = running.wait_children(1)
        cancel_when_running(sqlite, uuid, marker)
        wait_until(lambda: sqlite.get(uuid)["state"] == "cancelled", 15, "cancelled")
        # Its process was not touched
        assert running.children() == [child]
        assert running.stop() == 0
    assert events(sqlite.get(uuid)) == ["put", "reserved", "cancel-requested", "cancelled"]


def test_a_job_ignoring_the_cancel_loses_its_process_and_ends_cancelled(
    sqlite: Store, tmp_path: Path
) -> None:
    # Given a job spinning in Python for a minute, never calling job_log
    marker = tmp_path / "running"
    uuid = enqueue(sqlite, "pool_spin", ttr=TTR, seconds=60, marker=str(marker))
    with pool(sqlite.settings.url, tmp_path, "--workers", "1", *GRACE) as running:
        [child] = running.wait_children(1)
        # When it is cancelled
        asked = cancel_when_running(sqlite, uuid, marker)
        # Then after the 1 s grace its process is terminated and the job ends cancelled
        wait_until(lambda: sqlite.get(uuid)["state"] == "cancelled", 20, "cancelled")
        assert time.monotonic() - asked < 10
        [replacement] = wait_until(lambda: (c := running.children()) and child not in c and c)
        # And the replacement serves the queue
        later = enqueue(sqlite, "pool_sleep")
        wait_until(lambda: sqlite.get(later)["state"] == "complete", 20, "a later job")
        assert sqlite.get(later)["result"]["pid"] == replacement
        assert running.stop() == 0
    record = sqlite.get(uuid)
    assert events(record) == ["put", "reserved", "cancel-requested", "cancelled"]
    assert record["result"] is None
    assert "ignored its cancel" in running.log()


def test_a_job_holding_the_gil_is_killed_on_cancel_and_ends_cancelled(
    sqlite: Store, tmp_path: Path
) -> None:
    # Given a job in a re.match holding the GIL for a minute (its child cannot even handle
    # SIGTERM, let alone hear the cancel)
    marker = tmp_path / "running"
    size = regex_size_for(60.0)
    uuid = enqueue(sqlite, "pool_regex", ttr=TTR, size=size, marker=str(marker))
    with pool(sqlite.settings.url, tmp_path, "--workers", "1", *GRACE) as running:
        [child] = running.wait_children(1)
        # When it is cancelled
        asked = cancel_when_running(sqlite, uuid, marker)
        # Then the supervisor learns it when renewing the lease, SIGKILLs the child after the
        # grace period and SIGTERM, and settles the job cancelled
        wait_until(lambda: sqlite.get(uuid)["state"] == "cancelled", 30, "cancelled")
        assert time.monotonic() - asked < 20
        wait_until(lambda: (c := running.children()) and child not in c)
        assert running.stop() == 0
    assert events(sqlite.get(uuid)) == ["put", "reserved", "cancel-requested", "cancelled"]
    assert "did not stop in time; killing it" in running.log()
