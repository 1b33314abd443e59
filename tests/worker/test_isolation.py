"""A job in a process of its own (``ISOLATE = "process"``), with real worker processes: what
it reports reaches its record as from a thread, its outcomes are its own, and an operator's
cancel reaches it."""

from __future__ import annotations

from pathlib import Path

from tests.worker.pool import pool, wait_until
from tests.worker.test_usage import IMPORTS, enqueue, finished
from zerog.store import Store

FLAGS = ("--workers", "1", "--threads", "2", "-q", "res")


def test_its_log_progress_checkpoint_and_outcomes_reach_the_record(
    sqlite: Store, tmp_path: Path
) -> None:
    # Given a pool, and four isolated jobs: one that completes, one that finishes with an
    # error of its own, one whose code raises and one whose result is not JSON
    url = f"sqlite:///{tmp_path / 'jobs.db'}"
    with pool(url, tmp_path, *FLAGS, imports=IMPORTS) as running:
        workers = running.wait_children(1)
        ok = enqueue(sqlite, "res_reporting_isolated", steps=3)
        finish = enqueue(sqlite, "res_reporting_isolated", steps=1, fail="finish")
        raised = enqueue(sqlite, "res_reporting_isolated", steps=1, fail="value")
        not_json = enqueue(sqlite, "res_reporting_isolated", steps=1, fail="result")
        # When they have run
        done, failed, broken, unsent = (finished(sqlite, u) for u in (ok, finish, raised, not_json))
    # Then the first logged each step from its own process, and ended complete with its
    # checkpoint and result
    pid = done["result"]["pid"]
    assert pid not in workers
    assert done["state"] == "complete"
    assert [e["msg"] for e in done["events"]] == [f"step {n} in {pid}" for n in range(3)]
    assert done["values"]["done"] == 3
    assert done["completeness"] == 1.0
    # And the second failed as it said, with its code; the third with its exception's name
    # and the traceback of its process
    assert failed["state"] == "failed"
    assert failed["result_code"] == 7
    assert failed["errors"][-1]["msg"] == "finished with an error"
    assert failed["values"]["done"] == 1
    assert broken["state"] == "failed"
    error = broken["errors"][-1]
    assert error["msg"] == "ValueError: bad value in the job's process"
    assert "raise ValueError" in error["traceback"]
    assert error["usage"]["scope"] == "process"

    # And the fourth failed saying why its result could not come back
    assert unsent["state"] == "failed"
    assert unsent["errors"][-1]["msg"].startswith("TypeError: "), unsent["errors"]
    assert "not JSON serializable" in unsent["errors"][-1]["msg"]


def test_an_operators_cancel_reaches_it(sqlite: Store, tmp_path: Path) -> None:
    # Given an isolated job running in its own process, logging on
    url = f"sqlite:///{tmp_path / 'jobs.db'}"
    marker = tmp_path / "running"
    with pool(url, tmp_path, *FLAGS, imports=IMPORTS):
        uuid = enqueue(sqlite, "res_reporting_isolated", marker=str(marker))
        wait_until(marker.exists, 60, "the job to run")
        # When an operator cancels it
        sqlite.act(uuid, "cancel")
        record = finished(sqlite, uuid)
    # Then it ends cancelled, its log lines kept
    assert record["state"] == "cancelled"
    assert record["events"], record
