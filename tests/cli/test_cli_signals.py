"""``zerog worker`` and SIGTERM: drain within the grace period, then release with the
checkpoint; a second SIGTERM stops at once. Each of these runs the real command: a supervisor
with one child per core unless ``--workers`` says otherwise (0: no supervisor)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cli.conftest import Zerog, clean_env, command
from tests.worker.pool import children_of
from zerog.cli import EXIT_OK

ReadJob = Callable[[str], dict[str, Any]]
LONG_REPORT = {"title": "long", "steps": 600, "step_seconds": 0.1}  # a minute of work.


@contextlib.contextmanager
def worker_process(tmp_path: Path, *args: str) -> Iterator[subprocess.Popen[bytes]]:
    """A ``zerog worker`` in the background, its output in a file; its process group is killed
    on the way out, so a failed test leaves no worker behind."""
    with open(tmp_path / "worker.log", "wb") as log:
        process = subprocess.Popen(
            command("worker", *args),
            cwd=tmp_path,
            env=clean_env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: killpg reaches it and its children.
        )
        try:
            yield process
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def wait_for_state(read_job: ReadJob, uuid: str, state: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while read_job(uuid)["state"] != state:
        assert time.monotonic() < deadline, f"job never became {state}"
        time.sleep(0.1)


def enqueue_long_job(enqueue_example: Zerog) -> str:
    done = enqueue_example("example_report", json.dumps(LONG_REPORT))
    assert done.returncode == EXIT_OK, done.stderr
    return done.stdout.strip()


def test_sigterm_waits_the_grace_period_then_releases_the_job(
    zerog: Zerog, db_url: str, read_job: ReadJob, tmp_path: Path, enqueue_example: Zerog
) -> None:
    # Given a worker running a job that needs a minute
    uuid = enqueue_long_job(enqueue_example)
    with worker_process(
        tmp_path, "--url", db_url, "--import", "zerog.examples", "-q", "examples", "--grace", "1"
    ) as worker:
        wait_for_state(read_job, uuid, "running")

        # When it is sent SIGTERM
        sent = time.monotonic()
        worker.send_signal(signal.SIGTERM)
        code = worker.wait(timeout=15)
        took = time.monotonic() - sent

    # Then it exits 0 once the 1 s grace period is over, and the job is waiting again
    assert code == EXIT_OK, (tmp_path / "worker.log").read_text()
    assert 1 <= took < 6
    record = read_job(uuid)
    assert record["state"] == "waiting"
    assert record["history"][-1]["event"] == "released"
    assert record["attempts"] == 0  # a release does not count against the job's retries.
    assert "released job" in (tmp_path / "worker.log").read_text()


def test_second_sigterm_stops_at_once(
    zerog: Zerog, db_url: str, read_job: ReadJob, tmp_path: Path, enqueue_example: Zerog
) -> None:
    # Given a worker with a long grace period, running a long job
    uuid = enqueue_long_job(enqueue_example)
    with worker_process(
        tmp_path, "--url", db_url, "--import", "zerog.examples", "-q", "examples", "--grace", "60"
    ) as worker:
        wait_for_state(read_job, uuid, "running")

        # When SIGTERM is sent twice
        sent = time.monotonic()
        worker.send_signal(signal.SIGTERM)
        time.sleep(0.3)
        worker.send_signal(signal.SIGTERM)
        code = worker.wait(timeout=15)
        took = time.monotonic() - sent

    # Then it does not wait the grace period, and the job is released all the same
    assert code == EXIT_OK
    assert took < 5
    assert read_job(uuid)["history"][-1]["event"] == "released"


def test_an_idle_worker_stops_at_once(db_url: str, tmp_path: Path) -> None:
    with worker_process(tmp_path, "--url", db_url, "-q", "nothing") as worker:
        # Its signal handlers are in place once it has started a child (not after a fixed
        # second: a loaded machine may take longer than that to import zerog).
        deadline = time.monotonic() + 30
        while "started worker child" not in (tmp_path / "worker.log").read_text():
            assert time.monotonic() < deadline, (tmp_path / "worker.log").read_text()
            time.sleep(0.05)
        sent = time.monotonic()
        worker.send_signal(signal.SIGTERM)
        code = worker.wait(timeout=10)

    assert code == EXIT_OK
    assert time.monotonic() - sent < 3


# --- zerog worker --workers N --------------------------------------------------------------


def reserving_workers(record: dict[str, Any]) -> set[str]:
    return {h["worker"] for h in record["history"] if h["event"] == "reserved"}


def test_workers_share_the_queue(
    zerog: Zerog, db_url: str, read_job: ReadJob, enqueue_example: Zerog
) -> None:
    # Given four one-second jobs
    values = json.dumps({"title": "w", "steps": 2, "step_seconds": 0.5})
    uuids = [enqueue_example("example_report", values).stdout.strip() for _ in range(4)]

    # When two single-thread worker processes run them in burst mode
    done = zerog(
        "worker", "--workers", "2", "--burst", "--url", db_url, "--import", "zerog.examples"
    )

    # Then all complete, run by two different processes
    assert done.returncode == EXIT_OK, done.stderr
    records = [read_job(uuid) for uuid in uuids]
    assert {r["state"] for r in records} == {"complete"}
    assert len(set().union(*(reserving_workers(r) for r in records))) == 2


@pytest.mark.parametrize("how", ["sigterm-to-parent", "ctrl-c-to-the-group"])
def test_a_stop_reaches_each_worker_once(
    zerog: Zerog, db_url: str, read_job: ReadJob, tmp_path: Path, how: str, enqueue_example: Zerog
) -> None:
    # Given two worker processes under a supervisor, each running a long job
    uuids = [enqueue_long_job(enqueue_example) for _ in range(2)]
    with worker_process(
        tmp_path, "--workers", "2", "--url", db_url, "--import", "zerog.examples", "--grace", "1"
    ) as parent:
        for uuid in uuids:
            wait_for_state(read_job, uuid, "running")

        # When the parent is sent SIGTERM, or the whole group SIGINT (as a terminal's Ctrl-C)
        sent = time.monotonic()
        if how == "sigterm-to-parent":
            parent.send_signal(signal.SIGTERM)
        else:
            os.killpg(parent.pid, signal.SIGINT)
        code = parent.wait(timeout=20)
        took = time.monotonic() - sent

    # Then each worker drained once (it waited its 1 s grace: a second signal would not),
    # released its job, and the supervisor exits 0
    assert code == EXIT_OK, (tmp_path / "worker.log").read_text()
    assert 1 <= took < 8
    for uuid in uuids:
        record = read_job(uuid)
        assert record["state"] == "waiting"
        assert record["history"][-1]["event"] == "released"


def test_workers_0_runs_the_worker_in_this_process(
    zerog: Zerog, db_url: str, read_job: ReadJob, tmp_path: Path, enqueue_example: Zerog
) -> None:
    # Given `zerog worker --workers 0` running a long job
    uuid = enqueue_long_job(enqueue_example)
    with worker_process(
        tmp_path, "--workers", "0", "--url", db_url, "--import", "zerog.examples", "--grace", "0"
    ) as worker:
        wait_for_state(read_job, uuid, "running")
        # Then the job runs in that very process: no supervisor, no child
        assert children_of(worker.pid) == []
        assert read_job(uuid)["worker"].split("-")[-2] == str(worker.pid)
        # And SIGTERM drains it as it would a child of a pool
        worker.send_signal(signal.SIGTERM)
        code = worker.wait(timeout=15)
    assert code == EXIT_OK
    assert read_job(uuid)["history"][-1]["event"] == "released"
