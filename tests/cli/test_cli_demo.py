"""``zerog demo``: the quickstart runs to the end, without a terminal, and says so."""

from __future__ import annotations

import io
import json
import signal
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import IO

import pytest
from rich.console import Console

from tests.cli.conftest import Zerog, clean_env, command, one_line_error
from zerog.cli import EXIT_OK, EXIT_USAGE


@pytest.mark.slow
def test_demo_runs_every_job_to_complete_and_prints_a_summary(zerog: Zerog) -> None:
    # When the demo runs with stdout a pipe (as in CI), four times faster than for people
    done = zerog("demo", "--speed", "4", timeout=110)

    # Then it exits 0 and its summary lists every job complete, the flaky one after a retry
    assert done.returncode == EXIT_OK, done.stdout + done.stderr
    summary = done.stdout[done.stdout.index("summary") :]
    for label in (
        "Quarterly report",
        "Customer report",
        "Crawl 40 pages",
        "Flaky upstream",
        "Seed skeleton",
    ):
        assert label in summary
    assert summary.count("complete") >= 5
    assert "recovered from: upstream unavailable (attempt 1)" in summary
    assert "all 5 jobs complete." in done.stdout


def test_demo_refuses_a_store_that_processes_cannot_share(zerog: Zerog) -> None:
    done = zerog("demo", "--url", "memory://")

    assert done.returncode == EXIT_USAGE
    assert "cannot be shared between processes" in one_line_error(done.stderr)


@pytest.mark.slow
def test_demo_serves_its_jobs_on_the_dashboard_and_stays_up_when_asked(tmp_path: Path) -> None:
    # Given the demo started with --stay on any free port
    demo = subprocess.Popen(
        command("demo", "--speed", "4", "--port", "0", "--stay"),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=clean_env(),
        cwd=tmp_path,
    )
    try:
        assert demo.stdout is not None
        # When it prints the dashboard's address
        address = _line_after(demo.stdout, "dashboard: ").strip().rstrip("/")

        # Then the address serves the dashboard and the API lists the demo's five jobs
        assert address.startswith("http://127.0.0.1:")
        assert _get(address + "/").startswith("<!doctype html>")
        assert len(json.loads(_get(address + "/api/jobs"))["jobs"]) == 5

        # And when the jobs are done, it stays up until SIGTERM, then exits 0
        _line_after(demo.stdout, "all 5 jobs complete.")
        _line_after(demo.stdout, "stays up at")
        jobs = json.loads(_get(address + "/api/jobs?state=complete"))["jobs"]
        assert len(jobs) == 5
        demo.send_signal(signal.SIGTERM)
        assert demo.wait(timeout=30) == EXIT_OK
    finally:
        if demo.poll() is None:  # SIGTERM first: the demo stops its workers; a kill orphans them.
            demo.terminate()
            try:
                demo.wait(timeout=30)
            except subprocess.TimeoutExpired:
                demo.kill()
                demo.wait()
        if demo.stdout is not None:
            demo.stdout.close()


def _line_after(stream: IO[str], marker: str) -> str:
    """Read lines until one holds ``marker``; returns what follows it on that line."""
    seen = []
    for line in stream:
        if marker in line:
            return line.split(marker, 1)[1]
        seen.append(line)
    raise AssertionError(f"{marker!r} never printed; the demo printed: {''.join(seen)}")


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:
        body: bytes = response.read()
    return body.decode()


@pytest.mark.slow
def test_sigterm_stops_the_demo_and_its_workers(tmp_path: Path) -> None:
    # Given a demo under way, its worker processes started
    demo = subprocess.Popen(
        command("demo", "--port", "0"),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=clean_env(),
        cwd=tmp_path,
    )
    assert demo.stdout is not None
    try:
        _line_after(demo.stdout, "zerog demo: ")
        deadline = time.monotonic() + 20
        while len(workers := _children(demo.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(workers) == 2, workers
        time.sleep(1.0)  # the workers are running jobs now.

        # When it gets SIGTERM
        demo.send_signal(signal.SIGTERM)

        # Then it exits as terminated, and stopped its workers first
        assert demo.wait(timeout=60) == 128 + signal.SIGTERM
        assert [pid for pid in workers if Path(f"/proc/{pid}").exists()] == []
    finally:
        if demo.poll() is None:
            demo.kill()
            demo.wait()
        demo.stdout.close()


def _children(pid: int) -> list[int]:
    """The processes ``pid`` started (Linux: /proc/<pid>/task/*/children)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(child) for child in (task / "children").read_text().split()]
    return found


@pytest.mark.parametrize("columns", [80, 100, 120])
def test_the_demo_s_live_bars_fit_the_terminal(columns: int) -> None:
    # Given the demo's live display on a terminal of 80 to 120 columns,
    from zerog import demo
    from zerog.model import State

    out = Console(width=columns, file=io.StringIO(), force_terminal=True, color_system=None)
    progress, log_chars = demo.live_display(out)
    task = progress.add_task(f"{'Quarterly report':<17}", total=100, state="", eta="", log="")
    record = {
        "state": State.RUNNING.value,
        "eta": 754.0,
        "completeness": 0.42,
        "events": [{"msg": "step 5 of 12 done: the long log line of a chatty job " * 3}],
    }
    # When a running job with a long log line is drawn,
    demo._show(progress, task, record, log_chars)
    out.print(progress.make_tasks_table(progress.tasks))
    # Then its line fits, with the start of its log line.
    drawn = out.file.getvalue()  # type: ignore[attr-defined]
    lines = [line for line in drawn.splitlines() if line.strip()]
    assert len(lines) == 1, drawn  # one line per job: nothing wrapped.
    assert len(lines[0]) <= columns, lines
    assert "Quarterly" in lines[0]
    assert "step 5 of 12" in lines[0]
