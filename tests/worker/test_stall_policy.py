"""Stalls by progress and their policy, with real worker processes (issue 19 #3): a job that
logs every 0.3 s but stays at 10 % is flagged within twice its window, and its policy
(cancel, retry) is applied once, in its history and the audit trail; the webhook gets the
stall and the failure."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import zerog
from tests.worker import stall_jobs
from tests.worker.hook_server import hook_server
from tests.worker.pool import pool, wait_until
from zerog.audit import AuditQuery
from zerog.backends.memory import MemoryBackend
from zerog.settings import Settings
from zerog.store import Store
from zerog.worker import Worker

IMPORTS = ("tests.worker.stall_jobs",)
WINDOW = 2.0
ACTOR = "zerog:stall-policy"


def _stuck(store: Store, marker: Path, policy: str, retries: int = 0) -> str:
    job = zerog.make_base_job({"marker": str(marker), "seconds": 60}, "stall_stuck")
    return job.enqueue(
        store=store, ttr=30, stall_seconds=WINDOW, stall_policy=policy, max_retries=retries
    )


def _by_policy(record: dict[str, Any]) -> list[dict[str, Any]]:
    return [h for h in record["history"] if str(h["worker"]).startswith(ACTOR)]


def test_a_busy_job_stuck_at_ten_percent_is_cancelled_once_and_the_webhook_told(
    sqlite: Store, tmp_path: Path
) -> None:
    with hook_server() as hook:
        # Given a job that logs every 0.3 s but never leaves 10 %, window 2 s, policy cancel,
        # and a job that fails for good, in a pool with a webhook
        uuid = _stuck(sqlite, tmp_path / "stuck", "cancel")
        failing = zerog.make_base_job({}, "stall_fail").enqueue(store=sqlite, max_retries=0)
        flags = ("--workers", "1", "--threads", "2", "--webhook", hook.url)
        with pool(sqlite.settings.url, tmp_path, *flags, imports=IMPORTS) as running:
            # When it runs / Then the stall policy cancels it
            wait_until(lambda: sqlite.get(uuid)["state"] == "cancelled", 60, "the cancel")
            wait_until(lambda: hook.of("job.stalled") and hook.of("job.failed"), 30, "events")
            assert running.stop() == 0
        record = sqlite.get(uuid, history=True)
        # once, by the stall policy, within twice its window of its last progress
        applied = _by_policy(record)
        assert [h["event"] for h in applied] == ["cancel-requested"]
        assert applied[0]["worker"].startswith(f"{ACTOR} (worker ")
        progressed = record["samples"][-1][0]
        assert record["samples"][-1][1] == pytest.approx(0.1)
        assert applied[0]["at"] - progressed < 2 * WINDOW
        assert len(record["events"]) >= 3  # it was logging all along: busy, not silent.
        # in the audit trail, naming the actor and its source
        audit = sqlite.audit(AuditQuery(target=uuid))
        assert [(e["action"], e["actor"]) for e in audit] == [("cancel", ACTOR)]
        assert audit[0]["source"].startswith("worker ")
        # and the webhook got the stall once, and the failure
        (stalled,) = hook.of("job.stalled")
        assert stalled["job_id"] == uuid
        assert (stalled["policy"], stalled["applied"]) == ("cancel", True)
        assert stalled["queue"] == "stall"
        assert WINDOW <= stalled["quiet_seconds"] < 2 * WINDOW
        (failed,) = hook.of("job.failed")
        assert failed["job_id"] == failing
        assert "the disk is full" in failed["error"]


def test_a_stuck_job_with_policy_retry_is_retried_once_and_then_completes(
    sqlite: Store, tmp_path: Path
) -> None:
    # Given the stuck job with policy retry and one retry left (its second run completes)
    marker = tmp_path / "stuck"
    uuid = _stuck(sqlite, marker, "retry", retries=1)
    with pool(sqlite.settings.url, tmp_path, "--workers", "1", imports=IMPORTS) as running:
        # When it stalls / Then its lease is taken back once and the job runs again
        wait_until(lambda: sqlite.get(uuid)["state"] == "complete", 60, "the second run")
        assert running.stop() == 0
    record = sqlite.get(uuid, history=True)
    assert [h["event"] for h in _by_policy(record)] == ["timed-out"]
    assert record["attempts"] == 2
    assert record["result"] == "done on a later run"
    assert len(Path(f"{marker}.runs").read_text().splitlines()) == 2
    audit = sqlite.audit(AuditQuery(target=uuid))
    assert [(e["action"], e["actor"]) for e in audit] == [("timeout", ACTOR)]


# --- in one process: what counts as progress --------------------------------------------------


@pytest.fixture
def memory() -> Iterator[Store]:
    store = Store(MemoryBackend(), Settings(url="memory://"))
    yield store
    store.close()


def _run_worker(store: Store) -> tuple[Worker, threading.Thread]:
    worker = Worker(store, [stall_jobs.QUEUE], threads=2)
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    return worker, thread


def test_logging_is_not_progress_but_moving_completeness_is(
    memory: Store, caplog: pytest.LogCaptureFixture
) -> None:
    # Given a job stuck at 10 % that logs, and one that moves every 0.2 s, window 0.8 s,
    # under the default policy (alert)
    caplog.set_level(logging.WARNING, logger="zerog.worker.heartbeat")
    stuck = zerog.make_base_job({"seconds": 4}, "stall_stuck").enqueue(
        store=memory, stall_seconds=0.8
    )
    steady = zerog.make_base_job({"steps": 12}, "stall_steady").enqueue(
        store=memory, stall_seconds=0.8
    )
    worker, thread = _run_worker(memory)
    # When they run / Then the stuck one is shown stalled while it logs, and runs on
    record = wait_until(lambda: (r := memory.get(stuck))["stalled"] and r, 20, "the stall")
    assert record["state"] == "running"
    assert memory.get(steady)["stalled"] is False
    wait_until(lambda: memory.get(stuck)["state"] == "complete", 20, "the stuck job's end")
    wait_until(lambda: memory.get(steady)["state"] == "complete", 20, "the steady job's end")
    worker.stop()
    thread.join(10)
    # And the worker told the stall once, and nothing of the steady job
    told = [r for r in caplog.records if getattr(r, "event", None) == "job.stalled"]
    assert [r.job_id for r in told] == [stuck]  # type: ignore[attr-defined]
    assert not _by_policy(memory.get(stuck, history=True))  # alert does nothing to the job.
