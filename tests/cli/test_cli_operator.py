"""The operator's commands in a terminal of 80-120 columns: tables that fit, short ids,
``zerog queue pause|resume``, ``enqueue --queue``, ``--watch``, a missing store left
uncreated, and the worker's log: one line per job start and end, and how to stop at once."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

from tests.cli.conftest import Zerog, clean_env, command, one_line_error
from tests.cli.test_cli_signals import worker_process
from zerog.cli import EXIT_OK, EXIT_USAGE
from zerog.store import open_store

EXAMPLES = ("--import", "zerog.examples")
LONG_TITLE = "the quarterly report of the finance department, with every table and chart " * 2


def enqueue(
    zerog: Zerog,
    db_url: str,
    job_type: str,
    values: dict[str, object],
    *flags: str,
    env: dict[str, str] | None = None,
) -> str:
    data = json.dumps(values)
    done = zerog("enqueue", job_type, "--url", db_url, *EXAMPLES, "--data", data, *flags, env=env)
    assert done.returncode == EXIT_OK, done.stderr
    return done.stdout.strip()


def _running(url: str) -> bool:
    """Whether a job of the store runs now."""
    store = open_store(url)
    try:
        return bool(store.counts().get("examples", {}).get("running"))
    finally:
        store.close()


def lines_of(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


def test_jobs_and_workers_fit_100_columns_and_take_short_ids(
    zerog: Zerog, db_url: str, tmp_path: Path
) -> None:
    # Given jobs with long values in a long-named queue, and a worker running one of them,
    uuids = [
        enqueue(
            zerog,
            db_url,
            "example_report",
            {"title": LONG_TITLE, "steps": 600, "step_seconds": 0.1},
            "--queue",
            "a-rather-long-queue-name-for-reports",
            "--tag",
            "finance",
        )
        for _ in range(3)
    ]
    with worker_process(
        tmp_path,
        "--url",
        db_url,
        *EXAMPLES,
        "-q",
        "a-rather-long-queue-name-for-reports",
        "--workers",
        "1",
        "--grace",
        "1",
    ):
        deadline = time.monotonic() + 30
        while "running" not in zerog("jobs", "--url", db_url, "--state", "running").stdout:
            assert time.monotonic() < deadline, "no job started"
            time.sleep(0.2)
        # When people list them in a 100-column terminal,
        wide = {"COLUMNS": "100"}
        jobs = zerog("jobs", "--url", db_url, env=wide)
        workers = zerog("workers", "--url", db_url, env=wide)
    # Then every line fits, each job is on one line under its short id, with its progress,
    assert jobs.returncode == workers.returncode == EXIT_OK, jobs.stderr + workers.stderr
    for output in (jobs.stdout, workers.stdout):
        assert max(len(line) for line in output.splitlines()) <= 100, output
    rows = [line for line in lines_of(jobs.stdout) if any(u[-10:] in line for u in uuids)]
    assert len(rows) == 3, jobs.stdout
    assert all("%" in row for row in rows)
    assert "running" in jobs.stdout
    # and the worker's line shows the job it runs by the same short id;
    running = next(u for u in uuids if u[-10:] in workers.stdout)
    # every command takes that short id back, as the dashboard's ids too.
    shown = zerog("job", running[-10:], "--url", db_url, "--json")
    assert shown.returncode == EXIT_OK, shown.stderr
    assert json.loads(shown.stdout)["uuid"] == running
    waiting = next(u for u in uuids if u != running)
    assert zerog("cancel", f"…{waiting[-10:]}", "--url", db_url).returncode == EXIT_OK
    assert (
        json.loads(zerog("job", waiting, "--url", db_url, "--json").stdout)["state"] == "cancelled"
    )
    assert zerog("tag", waiting[-12:], "later", "--url", db_url).returncode == EXIT_OK


def test_an_ambiguous_or_unknown_short_id_is_one_line(zerog: Zerog, db_url: str) -> None:
    enqueue(zerog, db_url, "example_report", {"title": "a", "steps": 1})
    done = zerog("job", "0000000000", "--url", db_url)
    assert done.returncode == 1
    assert one_line_error(done.stderr) == "zerog: error: no job with id '0000000000'"


def test_queue_pause_and_resume_show_in_queues(zerog: Zerog, db_url: str) -> None:
    # Given a job put in a queue named on the command line (not its class's),
    uuid = enqueue(
        zerog, db_url, "example_report", {"title": "q", "steps": 1}, "--queue", "nightly"
    )
    assert json.loads(zerog("job", uuid, "--url", db_url, "--json").stdout)["queue"] == "nightly"
    # When the queue is paused, `zerog queues` says so, and a burst worker leaves it alone;
    assert zerog("queue", "pause", "nightly", "--url", db_url).returncode == EXIT_OK
    queues = zerog("queues", "--url", db_url)
    assert "paused" in next(line for line in lines_of(queues.stdout) if "nightly" in line)
    listed = json.loads(zerog("queues", "--url", db_url, "--json").stdout)["queues"]
    assert listed == [{"name": "nightly", "counts": listed[0]["counts"], "paused": True}]
    burst = zerog(
        "worker", "--burst", "--url", db_url, *EXAMPLES, "-q", "nightly", "--workers", "0"
    )
    assert burst.returncode == EXIT_OK, burst.stderr
    assert json.loads(zerog("job", uuid, "--url", db_url, "--json").stdout)["state"] == "waiting"
    # and once resumed, it runs.
    assert zerog("queue", "resume", "nightly", "--url", db_url).returncode == EXIT_OK
    assert "paused" not in zerog("queues", "--url", db_url).stdout
    burst = zerog(
        "worker", "--burst", "--url", db_url, *EXAMPLES, "-q", "nightly", "--workers", "0"
    )
    assert json.loads(zerog("job", uuid, "--url", db_url, "--json").stdout)["state"] == "complete"


def test_jobs_watch_redraws_until_ctrl_c(zerog: Zerog, db_url: str, tmp_path: Path) -> None:
    # Given `zerog jobs --watch` into a pipe, every 0.2 s,
    first = enqueue(zerog, db_url, "example_report", {"title": "one", "steps": 1})
    with subprocess.Popen(
        command("jobs", "--url", db_url, "--watch", "--every", "0.2"),
        cwd=tmp_path,
        env=clean_env(COLUMNS="100"),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    ) as watcher:
        assert watcher.stdout is not None
        try:
            seen = ""
            while first[-10:] not in seen:
                seen += watcher.stdout.readline()
            # When a job is added, a later drawing shows it,
            second = enqueue(zerog, db_url, "example_report", {"title": "two", "steps": 1})
            while second[-10:] not in seen:
                line = watcher.stdout.readline()
                assert line, "the watch ended"
                seen += line
            # and Ctrl-C ends the watch with exit 0.
            watcher.send_signal(signal.SIGINT)
            assert watcher.wait(timeout=20) == EXIT_OK
        finally:
            watcher.kill()


def test_a_reading_command_on_a_missing_store_creates_nothing(zerog: Zerog, tmp_path: Path) -> None:
    # Given no store in the current directory,
    for args in (
        ("jobs",),
        ("queues",),
        ("workers",),
        ("job", "0123456789"),
        ("cancel", "0123456789"),
    ):
        # When a command that reads or steers jobs runs with the default URL,
        done = zerog(*args)
        # Then it says there is no store there, and creates none.
        assert done.returncode == EXIT_USAGE, (args, done.stderr)
        assert one_line_error(done.stderr).startswith(
            f"zerog: error: no store at {tmp_path}/zerog.db"
        )
        assert not (tmp_path / "zerog.db").exists()
    # while enqueue still makes the store it writes to.
    enqueue(zerog, "sqlite:///zerog.db", "example_report", {"title": "x", "steps": 1})
    assert (tmp_path / "zerog.db").exists()
    assert zerog("jobs").returncode == EXIT_OK


def test_the_worker_logs_each_job_start_and_end_with_its_error(
    zerog: Zerog, db_url: str, tmp_path: Path
) -> None:
    # Given a job that completes and one that fails for good,
    ok = enqueue(zerog, db_url, "example_report", {"title": "fine", "steps": 1, "step_seconds": 0})
    no_retry = {"ZEROG_MAX_RETRIES": "0"}
    flaky = {"fail_times": 99, "work_seconds": 0}
    bad = enqueue(zerog, db_url, "example_flaky", flaky, env=no_retry)
    # When a burst worker runs them,
    done = zerog(
        "worker", "--burst", "--url", db_url, *EXAMPLES, "-q", "examples", "--workers", "0"
    )
    assert done.returncode == EXIT_OK, done.stderr
    log = done.stderr.splitlines()
    # Then its log has one line for each job's end (its start with -v), the failure with its
    # error.
    assert not [line for line in log if f"job {ok} started" in line]
    assert [line for line in log if f"job {ok} completed" in line]
    failed = [line for line in log if f"job {bad} failed" in line]
    assert len(failed) == 1, done.stderr
    assert "WARNING" in failed[0]
    assert ": " in failed[0].split(f"job {bad} failed", 1)[1]  # the error's first line follows.


def test_the_first_ctrl_c_says_how_to_stop_now(zerog: Zerog, db_url: str, tmp_path: Path) -> None:
    enqueue(zerog, db_url, "example_report", {"title": "long", "steps": 600, "step_seconds": 0.1})
    with worker_process(
        tmp_path, "--url", db_url, *EXAMPLES, "-q", "examples", "--workers", "1", "--grace", "30"
    ) as worker:
        log = tmp_path / "worker.log"
        deadline = time.monotonic() + 30
        while not _running(db_url):
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        worker.send_signal(signal.SIGINT)
        while "press Ctrl-C again to stop now" not in log.read_text():
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        worker.send_signal(signal.SIGINT)
        assert worker.wait(timeout=20) == EXIT_OK, log.read_text()
