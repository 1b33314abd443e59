"""Jobs through the command line: enqueue, a burst worker, reading and steering them."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from tests.cli.conftest import Zerog, list_jobs, one_line_error
from zerog.cli import EXIT_FAILURE, EXIT_OK, EXIT_USAGE
from zerog.store import Store

ReadJob = Callable[[str], dict[str, Any]]
EXAMPLES = ("--import", "zerog.examples")


def enqueue(zerog: Zerog, db_url: str, job_type: str, values: dict[str, Any], *flags: str) -> str:
    done = zerog(
        "enqueue", job_type, "--url", db_url, *EXAMPLES, "--data", json.dumps(values), *flags
    )
    assert done.returncode == EXIT_OK, done.stderr
    return done.stdout.strip()


def test_enqueue_then_a_burst_worker_completes_the_job(
    zerog: Zerog, db_url: str, read_job: ReadJob
) -> None:
    # Given a report job enqueued from the command line
    uuid = enqueue(
        zerog,
        db_url,
        "example_report",
        {"title": "cli", "steps": 3, "step_seconds": 0.05},
        "--tag",
        "cli",
    )
    assert read_job(uuid)["state"] == "waiting"

    # When a burst worker runs what is ready
    done = zerog("worker", "--burst", "--url", db_url, *EXAMPLES, "-q", "examples")

    # Then the worker exits 0 and `zerog job --json` shows the job complete, with its log
    assert done.returncode == EXIT_OK, done.stderr
    record = read_job(uuid)
    assert record["state"] == "complete"
    assert record["completeness"] == 1.0
    assert record["tags"] == ["cli"]
    assert record["result"] == {"title": "cli", "steps": 3}
    assert [e["msg"] for e in record["events"]][-1] == "cli: step 3 of 3 done"
    assert [h["event"] for h in record["history"]] == ["put", "reserved", "completed"]


def test_human_output_shows_job_and_queue(zerog: Zerog, db_url: str) -> None:
    # Given a finished job
    uuid = enqueue(zerog, db_url, "my_job_type", {"fieldOne": "[bold]not markup[/bold]"})
    assert zerog("worker", "--burst", "--url", db_url, *EXAMPLES).returncode == EXIT_OK

    # When people look at it
    job = zerog("job", uuid, "--url", db_url)
    jobs = zerog("jobs", "--url", db_url)
    queues = zerog("queues", "--url", db_url)

    # Then the tables show it, user text printed as is
    assert job.returncode == jobs.returncode == queues.returncode == EXIT_OK
    assert uuid in job.stdout
    assert "complete" in job.stdout
    assert "[bold]not markup[/bold]" in job.stdout
    assert uuid[-10:] in jobs.stdout  # tables show ids by their last digits
    assert "my_job_type" in jobs.stdout
    assert "my_job" in queues.stdout
    assert "complete" in queues.stdout


def test_enqueue_options_reach_the_record(zerog: Zerog, db_url: str, read_job: ReadJob) -> None:
    uuid = enqueue(
        zerog,
        db_url,
        "my_job_type",
        {},
        "--priority",
        "-5",
        "--delay",
        "60",
        "--ttr",
        "30",
        "--tag",
        "a",
        "--tag",
        "b",
        "--fair-key",
        "tenant-7",
    )

    record = read_job(uuid)
    assert record["state"] == "scheduled"
    assert record["priority"] == -5
    assert record["ttr_seconds"] == 30
    assert record["tags"] == ["a", "b"]
    assert record["fair_key"] == "tenant-7"


def test_values_from_standard_input_and_flags_from_the_environment(
    zerog: Zerog, db_url: str, read_job: ReadJob
) -> None:
    # When the URL, imports and tags come from the environment and the values from stdin
    env = {"ZEROG_URL": db_url, "ZEROG_IMPORT": "zerog.examples", "ZEROG_TAG": "x,y"}
    done = zerog(
        "enqueue", "my_job_type", "--data", "-", env=env, stdin=json.dumps({"fieldOne": "piped"})
    )

    # Then they are all used
    assert done.returncode == EXIT_OK, done.stderr
    record = read_job(done.stdout.strip())
    assert record["values"] == {"fieldOne": "piped"}
    assert record["tags"] == ["x", "y"]


def test_cancel_retry_pause_resume(zerog: Zerog, db_url: str, read_job: ReadJob) -> None:
    uuid = enqueue(zerog, db_url, "my_job_type", {})

    for action, state in [
        ("pause", "paused"),
        ("resume", "waiting"),
        ("cancel", "cancelled"),
        ("retry", "waiting"),
    ]:
        done = zerog(action, uuid, "--url", db_url, "--json")
        assert done.returncode == EXIT_OK, done.stderr
        assert json.loads(done.stdout)["state"] == state
        assert read_job(uuid)["state"] == state


def test_a_forbidden_action_is_one_line_and_exit_1(zerog: Zerog, db_url: str) -> None:
    uuid = enqueue(zerog, db_url, "my_job_type", {})

    done = zerog("resume", uuid, "--url", db_url)

    assert done.returncode == EXIT_FAILURE
    assert "cannot resume" in one_line_error(done.stderr)


def test_kick_retries_failed_jobs(
    zerog: Zerog, db_url: str, tmp_path: Path, read_job: ReadJob
) -> None:
    # Given two jobs that a burst worker failed
    write_user_jobs(tmp_path)
    uuids = [
        zerog("enqueue", "doomed", "--url", db_url, "--import", "userjobs").stdout.strip()
        for _ in range(2)
    ]
    # (one worker process, so the jobs fail in the order they were put)
    worker = zerog(
        "worker", "--burst", "--workers", "1", "--url", db_url, "--import", "userjobs",
        "-q", "doomed",
    )  # fmt: skip
    assert worker.returncode == EXIT_OK, worker.stderr
    assert [read_job(uuid)["state"] for uuid in uuids] == ["failed", "failed"]

    # When the queue is kicked for one job
    done = zerog("kick", "doomed", "--url", db_url, "--json")

    # Then the oldest failure is waiting again, the other still failed
    assert done.returncode == EXIT_OK, done.stderr
    assert json.loads(done.stdout) == {"queue": "doomed", "kicked": 1}
    assert [read_job(uuid)["state"] for uuid in uuids] == ["waiting", "failed"]


USER_JOBS = """\
import time

from zerog import BaseJob, WFErrorFinish


class Ping(BaseJob):
    JOB_TYPE = "ping"
    QUEUE_NAME = "pings"

    def run(self):
        self.result = "pong"
        return time.time(), False


class Doomed(BaseJob):
    JOB_TYPE = "doomed"
    QUEUE_NAME = "doomed"

    def run(self):
        raise WFErrorFinish("no way", 42)
"""


def write_user_jobs(directory: Path) -> None:
    """A job module of the user's, importable as ``userjobs`` from the working directory."""
    (directory / "userjobs.py").write_text(USER_JOBS)


def test_default_queues_are_those_of_the_imported_job_classes(
    zerog: Zerog, db_url: str, tmp_path: Path, read_job: ReadJob
) -> None:
    # Given a job module of the user's, in the working directory, with its own queue
    write_user_jobs(tmp_path)
    done = zerog("enqueue", "ping", "--url", db_url, "--import", "userjobs")
    assert done.returncode == EXIT_OK, done.stderr
    uuid = done.stdout.strip()

    # When a worker is started with no -q
    worker = zerog("worker", "--burst", "--url", db_url, "--import", "userjobs")

    # Then it worked the class's queue
    assert worker.returncode == EXIT_OK, worker.stderr
    assert "pings" in worker.stderr
    assert read_job(uuid)["result"] == "pong"


def test_listing_filters_and_pages(zerog: Zerog, db_url: str) -> None:
    first = enqueue(zerog, db_url, "my_job_type", {}, "--tag", "one")
    second = enqueue(zerog, db_url, "my_job_type", {}, "--tag", "two")

    tagged = json.loads(zerog("jobs", "--url", db_url, "--tag", "one", "--json").stdout)
    page = json.loads(zerog("jobs", "--url", db_url, "--limit", "1", "--json").stdout)
    rest = json.loads(
        zerog("jobs", "--url", db_url, "--limit", "1", "--cursor", page["cursor"], "--json").stdout
    )

    assert [j["uuid"] for j in tagged["jobs"]] == [first]
    assert [j["uuid"] for j in page["jobs"] + rest["jobs"]] == [second, first]
    assert len(list_jobs(zerog, db_url)) == 2


def test_listing_by_worker(zerog: Zerog, db_url: str) -> None:
    # Given two jobs, one of them reserved by worker "w9"
    enqueue(zerog, db_url, "my_job_type", {})
    with closing(Store.from_url(db_url)) as store:
        reservation = store.reserve(["my_job"], "w9")
    assert reservation is not None
    # When the jobs of w9 are listed / Then that one is
    held = json.loads(zerog("jobs", "--url", db_url, "--worker", "w9", "--json").stdout)
    assert [j["uuid"] for j in held["jobs"]] == [reservation.lease.uuid]
    none = json.loads(zerog("jobs", "--url", db_url, "--worker", "w8", "--json").stdout)
    assert none["jobs"] == []


def test_a_bad_state_filter_is_a_usage_error(zerog: Zerog, db_url: str) -> None:
    done = zerog("jobs", "--url", db_url, "--state", "sleeping")

    assert done.returncode == 2
    assert "sleeping" in done.stderr


@pytest.mark.parametrize(
    "command",
    [
        *("worker", "enqueue", "jobs", "job", "queues", "kick", "cancel", "demo", "config"),
        *("priority", "move", "tag", "timeout", "recurring", "unrecur", "limit", "stats"),
        "rate-limit",
    ],
)
def test_help_names_the_environment_variable_of_every_flag(zerog: Zerog, command: str) -> None:
    done = zerog(command, "--help")

    assert done.returncode == EXIT_OK
    flags = [
        line
        for line in done.stdout.splitlines()
        if line.strip().startswith("--") and not line.strip().startswith("--help")
    ]
    text = " ".join(done.stdout.split())
    assert flags
    assert text.count("[env: ZEROG_") >= len(flags)


def test_config_sets_reads_and_unsets_the_store_s_shared_keys(zerog: Zerog, db_url: str) -> None:
    assert zerog("config", "--url", db_url, "heartbeat", "120").returncode == EXIT_OK
    shown = json.loads(zerog("config", "--url", db_url, "--json").stdout)
    assert shown["store"]["heartbeat"] == 120
    assert shown["store"]["jobs-history-count"] == 50000
    done = zerog("config", "--url", db_url, "heartbeat", "--unset", "--json")
    assert json.loads(done.stdout) == {"heartbeat": 60}
    bad = zerog("config", "--url", db_url, "jobs-history-count", "-5")
    assert bad.returncode == 1
    assert "jobs-history-count" in bad.stderr


def test_stalled_jobs_are_listed_and_flagged(zerog: Zerog, db_url: str) -> None:
    # Given a running job silent past its stall threshold, and a waiting one
    with closing(Store.from_url(db_url)) as store:
        store.set_config("stall-seconds", 0.1)
        silent = enqueue(zerog, db_url, "example_report", {"title": "a"}, "--ttr", "600")
        waiting = enqueue(zerog, db_url, "example_report", {"title": "b"})
        assert store.reserve(["examples"], "w1") is not None
    time.sleep(0.2)

    # When the stalled jobs are listed, Then only the silent one is, marked
    listed = zerog("jobs", "--url", db_url, "--stalled", "--json")
    assert listed.returncode == EXIT_OK, listed.stderr
    assert [job["uuid"] for job in json.loads(listed.stdout)["jobs"]] == [silent]
    table = zerog("jobs", "--url", db_url)
    assert "running stalled" in table.stdout
    assert waiting[-10:] in table.stdout

    # And `zerog job` says so in words
    shown = zerog("job", silent, "--url", db_url)
    assert "STALLED" in shown.stdout

    # And asking for stalled jobs in another state is a usage error
    refused = zerog("jobs", "--url", db_url, "--stalled", "--state", "waiting")
    assert refused.returncode == EXIT_USAGE
    assert "--stalled lists running jobs" in one_line_error(refused.stderr)
