"""SQLite with many processes on one file, as zerog runs it: each a separate interpreter."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from zerog.backends.sqlite import SqliteBackend
from zerog.model import ListQuery
from zerog.record import JobSpec, new_record

SCRIPT = Path(__file__).parent.parent / "support" / "_sqlite_process.py"
PROCESSES = 8
JOBS = 2000


def run_processes(mode: str, url: str, count: int) -> list[dict[str, Any]]:
    """Start ``count`` processes, let them go at once, and return their reports."""
    with contextlib.ExitStack() as stack:
        processes = [
            stack.enter_context(
                subprocess.Popen(
                    [sys.executable, str(SCRIPT), mode, url],
                    text=True,
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                )
            )
            for _ in range(count)
        ]
        stack.callback(_kill_all, processes)
        for process in processes:
            assert process.stdout is not None
            assert process.stdout.readline() == "ready\n"
        for process in processes:
            assert process.stdin is not None
            process.stdin.write("go\n")
            process.stdin.flush()
        results = [process.communicate(timeout=90) for process in processes]
    reports = []
    for process, (out, err) in zip(processes, results, strict=True):
        assert process.returncode == 0, f"{out}\n{err}"
        reports.append(json.loads(out.splitlines()[-1]))
    return reports


def _kill_all(processes: list[subprocess.Popen[str]]) -> None:
    for process in processes:
        if process.poll() is None:
            process.kill()
            process.wait()


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "shared.db"


def test_processes_opening_a_fresh_file_at_once_all_succeed(db: Path) -> None:
    # Given no database file yet
    assert not db.exists()
    # When several processes open it at the same moment and each puts a job
    reports = run_processes("open", f"sqlite:///{db}", 4)
    # Then every one succeeded and every job is in the one file
    assert [r["errors"] for r in reports] == [[]] * 4
    backend = SqliteBackend(db)
    try:
        stored = {r["uuid"] for r in backend.list(ListQuery(queue="opened")).records}
    finally:
        backend.close()
    assert stored == {uuid for r in reports for uuid in r["done"]}
    assert len(stored) == 4


@pytest.mark.slow
def test_many_processes_drain_one_file_each_job_once(db: Path) -> None:
    # Given 2,000 waiting jobs in one file
    backend = SqliteBackend(db)
    try:
        records = [new_record(JobSpec(type="t", queue="q"), backend.clock()) for _ in range(JOBS)]
        backend.put_many(records)
        # When 8 processes reserve and complete them concurrently
        reports = run_processes("drain", f"sqlite:///{db}", PROCESSES)
        # Then no process saw any error (no "database is locked" above all)
        assert [r["errors"] for r in reports] == [[]] * PROCESSES
        # And each job was completed by exactly one process, reserved exactly once
        done = Counter(uuid for r in reports for uuid in r["done"])
        assert set(done) == {r["uuid"] for r in records}
        assert set(done.values()) == {1}
        assert backend.counts() == {"q": {"complete": JOBS}}
        reserved = Counter(
            entry["event"]
            for r in records
            for entry in backend.get(r["uuid"], history=True)["history"]
        )
        assert reserved == {"put": JOBS, "reserved": JOBS, "completed": JOBS}
    finally:
        backend.close()
