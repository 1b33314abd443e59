"""The audit trail from the command line: every operator command leaves an entry naming
``user@host`` and the CLI; ``zerog audit`` lists them; a job's history names the actor."""

from __future__ import annotations

import json
from contextlib import closing

from tests.cli.conftest import Zerog
from zerog.audit import local_user
from zerog.cli import EXIT_OK
from zerog.record import JobSpec
from zerog.recurrence import RecurSpec
from zerog.store import open_store


def _setup(db_url: str) -> dict[str, str]:
    """Jobs in the states the commands need: running, waiting (x3), failed; a recurrence."""
    with closing(open_store(db_url)) as store:
        running = store.enqueue(JobSpec(type="t", queue="q", priority=-9))
        reserved = store.reserve(["q"], "w")
        assert reserved is not None
        assert reserved.lease.uuid == running
        failed = store.enqueue(JobSpec(type="t", queue="f"))
        lease = store.reserve(["f"], "w")
        assert lease is not None
        store.fail(lease.lease, {"timeStamp": 0.0, "errorCode": None, "msg": "x"})
        jobs = {
            "running": running,
            "failed": failed,
            "a": store.enqueue(JobSpec(type="t", queue="q")),
            "b": store.enqueue(JobSpec(type="t", queue="q")),
            "rec": store.recur(RecurSpec(type="t", queue="r", interval_seconds=60.0)),
        }
    return jobs


def test_every_operator_command_is_audited_as_the_user(zerog: Zerog, db_url: str) -> None:
    # Given jobs to act on
    j = _setup(db_url)
    commands = [
        (("pause", j["a"]), "pause", j["a"]),
        (("resume", j["a"]), "resume", j["a"]),
        (("priority", j["a"], "3"), "priority", j["a"]),
        (("move", j["a"], "q2"), "move", j["a"]),
        (("tag", j["a"], "x"), "tag", j["a"]),
        (("untag", j["a"], "x"), "untag", j["a"]),
        (("cancel", j["b"]), "cancel", j["b"]),
        (("retry", j["b"]), "retry", j["b"]),
        (("message", j["running"], '{"rate": 2}'), "message", j["running"]),
        (("timeout", j["running"]), "timeout", j["running"]),
        (("kick", "f"), "kick", "f"),
        (("queue", "pause", "q"), "pause-queue", "q"),
        (("queue", "resume", "q"), "resume-queue", "q"),
        (("limit", "gpu", "2"), "limit", "gpu"),
        (("rate-limit", "gpu", "10", "--per", "60"), "rate-limit", "gpu"),
        (("config", "heartbeat", "90"), "config", "heartbeat"),
        (("unrecur", j["rec"]), "unrecur", j["rec"]),
        (("cancel", j["a"]), "cancel", j["a"]),
        (("delete", j["a"]), "delete", j["a"]),
    ]
    # When an operator runs each command
    for args, _action, _target in commands:
        done = zerog(*args, "--url", db_url)
        assert done.returncode == EXIT_OK, (args, done.stderr)
    # Then `zerog audit` lists one entry per command, newest first, naming the user and the CLI
    done = zerog("audit", "--url", db_url, "--json", "--limit", "100")
    assert done.returncode == EXIT_OK, done.stderr
    entries = json.loads(done.stdout)["entries"]
    seen = [(e["action"], e["target"]) for e in reversed(entries)]
    assert seen[-len(commands) :] == [(action, target) for _a, action, target in commands]
    mine = entries[: len(commands)]
    assert {(e["actor"], e["source"]) for e in mine} == {(local_user(), "cli")}
    # And a job's history names the actor of what was done to it
    done = zerog("job", j["b"], "--url", db_url, "--json")
    history = json.loads(done.stdout)["history"]
    assert f"{local_user()} (cli)" in {h["worker"] for h in history if h["event"] == "cancelled"}


def test_zerog_audit_filters_and_shows_a_table(zerog: Zerog, db_url: str) -> None:
    j = _setup(db_url)
    assert zerog("pause", j["a"], "--url", db_url).returncode == EXIT_OK
    assert zerog("cancel", j["b"], "--url", db_url).returncode == EXIT_OK
    done = zerog("audit", "--url", db_url, "--json", "--action", "cancel")
    assert [e["target"] for e in json.loads(done.stdout)["entries"]] == [j["b"]]
    done = zerog("audit", "--url", db_url, "--target", j["a"])
    assert done.returncode == EXIT_OK, done.stderr
    assert "pause" in done.stdout
    assert "cancel" not in done.stdout
