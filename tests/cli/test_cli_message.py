"""``zerog message UUID JSON``: the real command in a subprocess, on a SQLite file."""

from __future__ import annotations

import getpass
import json
import socket
from contextlib import closing

from tests.cli.conftest import Zerog, one_line_error
from zerog.cli import EXIT_FAILURE, EXIT_OK, EXIT_USAGE
from zerog.record import JobSpec
from zerog.store import open_store


def _running_and_waiting(db_url: str) -> tuple[str, str]:
    """Two jobs: one reserved by a pretend worker, one waiting."""
    with closing(open_store(db_url)) as store:
        running = store.enqueue(JobSpec(type="t", queue="q", priority=-1))
        waiting = store.enqueue(JobSpec(type="t", queue="q"))
        reserved = store.reserve(["q"], "w")
        assert reserved is not None
        assert reserved.lease.uuid == running
    return running, waiting


def _record(db_url: str, uuid: str) -> dict:
    with closing(open_store(db_url)) as store:
        return store.get(uuid, history=True)


def test_a_message_to_a_running_job_names_its_sender(zerog: Zerog, db_url: str) -> None:
    running, _ = _running_and_waiting(db_url)
    # When an operator sends a message from the command line
    done = zerog("message", running[-8:], '{"rate": 5}', "--url", db_url, "--json")
    # Then it is sent, and the job's inbox and history say who sent it
    assert done.returncode == EXIT_OK, done.stderr
    sender = f"{getpass.getuser()}@{socket.gethostname()} (cli)"
    assert json.loads(done.stdout) == {"uuid": running, "state": "running", "sender": sender}
    record = _record(db_url, running)
    assert [(m["body"], m["sender"]) for m in record["inbox"]] == [({"rate": 5}, sender)]
    assert record["history"][-1]["event"] == "message"
    assert record["history"][-1]["worker"] == sender


def test_a_message_to_a_waiting_job_is_refused_unless_queued(zerog: Zerog, db_url: str) -> None:
    _, waiting = _running_and_waiting(db_url)
    # When sent as is / Then one line says why, exit 1, nothing kept
    done = zerog("message", waiting, '"hi"', "--url", db_url)
    assert done.returncode == EXIT_FAILURE
    assert "it is waiting, not running" in one_line_error(done.stderr)
    assert not _record(db_url, waiting).get("inbox")
    # When sent with --queue-if-idle / Then it waits for the job's next run
    done = zerog("message", waiting, '"hi"', "--queue-if-idle", "--url", db_url)
    assert done.returncode == EXIT_OK, done.stderr
    assert "next run" in done.stdout
    assert [m["body"] for m in _record(db_url, waiting)["inbox"]] == ["hi"]


def test_a_message_that_is_not_json_is_a_usage_error(zerog: Zerog, db_url: str) -> None:
    running, _ = _running_and_waiting(db_url)
    done = zerog("message", running, "{rate: 5}", "--url", db_url)
    assert done.returncode == EXIT_USAGE
    assert "not JSON" in one_line_error(done.stderr)


def test_the_job_view_counts_the_messages_waiting(zerog: Zerog, db_url: str) -> None:
    _, waiting = _running_and_waiting(db_url)
    assert zerog("message", waiting, "1", "--queue-if-idle", "--url", db_url).returncode == 0
    done = zerog("job", waiting, "--url", db_url)
    assert done.returncode == EXIT_OK, done.stderr
    assert "1 waiting for the job" in done.stdout
    assert "message-queued" in done.stdout


def test_a_message_can_come_from_stdin(zerog: Zerog, db_url: str) -> None:
    running, _ = _running_and_waiting(db_url)
    done = zerog("message", running, "-", "--url", db_url, stdin='{"big": [1, 2, 3]}')
    assert done.returncode == EXIT_OK, done.stderr
    assert [m["body"] for m in _record(db_url, running)["inbox"]] == [{"big": [1, 2, 3]}]
