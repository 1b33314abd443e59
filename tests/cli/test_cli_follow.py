"""``zerog job UUID --follow``: a long job watched from the terminal until it ends."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.cli.conftest import Zerog, clean_env, command
from zerog.cli import EXIT_FAILURE, EXIT_OK
from zerog.store import Store

EXAMPLES = ("--import", "zerog.examples")


def _enqueue_report(zerog: Zerog, db_url: str, steps: int = 4) -> str:
    data = json.dumps({"title": "Follow me", "steps": steps, "step_seconds": 0.3})
    done = zerog("enqueue", "example_report", "--url", db_url, *EXAMPLES, "--data", data)
    assert done.returncode == EXIT_OK, done.stderr
    return done.stdout.strip()


def _follow(tmp_path: Path, db_url: str, uuid: str, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        command("job", uuid, "--url", db_url, "--follow", "--interval", "0.05", *extra),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=clean_env(),
        cwd=tmp_path,
    )


@pytest.mark.slow
def test_follow_shows_the_run_as_it_happens_and_exits_0_when_the_job_completes(
    zerog: Zerog, db_url: str, tmp_path: Path
) -> None:
    # Given a report job of four steps, followed before any worker runs
    uuid = _enqueue_report(zerog, db_url)
    follower = _follow(tmp_path, db_url, uuid)
    assert follower.stdout is not None
    first = follower.stdout.readline()

    # When a burst worker runs it
    worker = zerog("worker", "--burst", "--workers", "1", "--url", db_url, *EXAMPLES)
    assert worker.returncode == EXIT_OK, worker.stderr
    rest, err = follower.communicate(timeout=30)
    out = first + rest

    # Then the follower printed each state it saw, every log line, and the result; exit 0
    assert follower.returncode == EXIT_OK, err
    assert "waiting" in first
    assert out.index("running") < out.index("complete"), out
    for step in range(1, 5):
        assert f"Follow me: step {step} of 4 done" in out
    assert 'result: {"title": "Follow me", "steps": 4}' in out


@pytest.mark.slow
def test_follow_json_prints_one_change_per_line_until_the_final_state(
    zerog: Zerog, db_url: str, tmp_path: Path
) -> None:
    # Given a report job followed with --json
    uuid = _enqueue_report(zerog, db_url)
    follower = _follow(tmp_path, db_url, uuid, "--json")
    assert follower.stdout is not None
    first = follower.stdout.readline()  # the job as it waits: the follower is under way.

    # When a worker runs it to the end
    assert zerog("worker", "--burst", "--url", db_url, *EXAMPLES).returncode == EXIT_OK
    rest, err = follower.communicate(timeout=30)
    out = first + rest

    # Then every line is a message of the stream's shape; progress rose; the last is final
    messages = [json.loads(line) for line in out.splitlines()]
    assert follower.returncode == EXIT_OK, err
    assert all(m["uuid"] == uuid for m in messages)
    assert [m["final"] for m in messages].count(True) == 1
    assert messages[-1]["final"]
    assert messages[-1]["state"] == "complete"
    assert messages[-1]["completeness"] == 1.0
    partial = [m["completeness"] for m in messages if 0 < (m["completeness"] or 0) < 1]
    assert partial, messages
    assert partial == sorted(partial)
    lines = [event["msg"] for m in messages for event in m["events"]]
    assert lines == [f"Follow me: step {n} of 4 done" for n in range(1, 5)]


def test_follow_exits_1_when_the_job_ends_other_than_complete(
    zerog: Zerog, db_url: str, tmp_path: Path
) -> None:
    # Given a waiting job being followed
    uuid = _enqueue_report(zerog, db_url)
    follower = _follow(tmp_path, db_url, uuid)

    # When an operator cancels it
    assert zerog("cancel", uuid, "--url", db_url).returncode == EXIT_OK
    out, err = follower.communicate(timeout=30)

    # Then the follower shows the cancel and exits 1
    assert follower.returncode == EXIT_FAILURE, err
    assert "cancelled" in out


def test_follow_of_an_unknown_job_is_one_clear_error(zerog: Zerog, db_url: str) -> None:
    Store.from_url(db_url).close()  # a store, without that job.
    done = zerog("job", "no-such-job", "--url", db_url, "--follow")

    assert done.returncode != EXIT_OK
    assert "no-such-job" in done.stderr
    assert "Traceback" not in done.stderr
