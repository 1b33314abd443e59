"""The qless face returns what qless-py returns, on a real SQLite store."""

from __future__ import annotations

import importlib
import json
import sys
import threading

import pytest

from tests.faces.qless_classes import Done
from zerog import qless
from zerog.errors import LostLockError, ZerogError
from zerog.qless import exceptions
from zerog.qless.job import BaseJob, Job, RecurringJob
from zerog.qless.jobs import SubprocessJob
from zerog.qless.listener import Listener


@pytest.fixture
def client(process_store):
    return qless.client()


def test_empty_lists_are_what_qless_core_returns(client):
    assert client.tags() == {}
    assert client.jobs.tagged("t") == {"total": 0, "jobs": {}}
    assert client.jobs.tracked() == {"jobs": [], "expired": {}}
    assert client.queues.counts == {}
    assert client.workers.counts == {}
    assert client.jobs.complete() == []
    assert client.jobs.failed() == {}
    assert client.jobs.failed("g") == {"total": 0, "jobs": []}
    assert client.jobs.get("nope") == []


def test_unfail_puts_a_failure_group_back_in_a_queue(client):
    jids = [client.queues["a"].put(Done, {}) for _ in range(3)]
    for _ in jids:
        client.queues["a"].pop().fail("broken", "why")
    assert client.unfail("broken", "b", count=2) == 2
    states = [(client.jobs[jid].state, client.jobs[jid].queue_name) for jid in jids]
    assert sorted(states) == [("failed", "a"), ("waiting", "b"), ("waiting", "b")]


def test_a_cancelled_job_is_gone_for_qless_but_kept_by_zerog(client, process_store):
    jid = client.queues["a"].put(Done, {})
    client.jobs[jid].cancel()
    assert client.jobs[jid] is None
    assert process_store.get(jid)["state"] == "cancelled"


def test_config_shows_qless_keys_with_set_values_as_strings(client):
    config = client.config
    assert len(config) == 7
    assert config.all["application"] == "qless"
    assert config.all["grace-period"] == 10
    config["heartbeat"] = "30"  # qless takes strings; zerog stores the number.
    config["foo"] = 5
    assert (config["heartbeat"], config.all["heartbeat"]) == (30, "30")
    assert (config["foo"], config.all["foo"], "foo" in config) == (5, "5", True)
    assert client.queues["q"].heartbeat == 30
    config.clear()
    assert config["heartbeat"] == 60
    assert "foo" not in config


def test_events_thread_delivers_what_happened_at_the_end_of_its_block(client):
    jid = client.queues["a"].put(Done, {})
    client.jobs[jid].track()
    seen: list[str] = []
    client.events.on("popped", seen.append)
    client.events.on("completed", seen.append)
    with client.events.thread(interval=60):  # it never ticks inside the block.
        client.queues["a"].pop().complete()
    assert seen == [jid, jid]


def test_recurring_jobs_have_a_queue_a_next_time_and_move(client):
    rid = client.queues["a"].recur(Done, {"x": 1}, interval=60, jid="every-minute")
    job = client.jobs[rid]
    assert isinstance(job, RecurringJob)
    assert isinstance(job, BaseJob)
    assert job.queue.name == "a"
    first = job.next
    assert client.queues["a"].pop() is not None  # spawns the due job.
    assert client.jobs[rid].next == pytest.approx(first + 60, abs=1)
    job.move("b")
    assert client.jobs[rid].queue.name == "b"
    job.klass = Job
    assert client.jobs[rid].klass is Job


def test_a_job_class_is_imported_again_once_its_file_changed(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))
    module = tmp_path / "faces_changing.py"
    module.write_text("class Step:\n    VERSION = 1\n")
    assert BaseJob._import("faces_changing.Step").VERSION == 1
    module.write_text("class Step:\n    VERSION = 2  # a new size: no stale .pyc\n")
    BaseJob.reload("faces_changing.Step")  # as a changed mtime would (no sleeping here).
    importlib.invalidate_caches()
    assert BaseJob._import("faces_changing.Step").VERSION == 2
    del sys.modules["faces_changing"]


def test_exceptions_keep_qless_names(client):
    assert exceptions.QlessException is ZerogError
    assert exceptions.LostLockException is LostLockError
    jid = client.queues["a"].put(Done, {})
    with pytest.raises(exceptions.LostLockException):
        client.jobs[jid].heartbeat()  # not popped by this client.


def test_subprocess_job_completes_or_fails_by_exit_status(client, tmp_path):
    ok = client.queues["a"].put(SubprocessJob, {"command": "true"})
    bad = client.queues["a"].put(
        SubprocessJob, {"command": "sh", "args": ["-c", "echo out; echo err >&2; exit 3"]}
    )
    for job in client.queues["a"].pop(2):
        job.sandbox = str(tmp_path)
        job.process()
    assert client.jobs[ok].state == "complete"
    failure = client.jobs[bad].failure
    assert (failure["group"], "out" in failure["message"], "err" in failure["message"]) == (
        "subprocess-failed",
        True,
        True,
    )


def test_the_listener_reports_lost_and_cancelled_jobs_not_settled_ones(client):
    worker = qless.client(hostname="w")
    jids = [client.queues["a"].put(Done, {}) for _ in range(3)]
    popped = {job.jid: job for job in worker.queues["a"].pop(3)}
    listener = Listener(client.store, ["ql:w:w"])
    client.jobs[jids[0]].timeout()
    client.jobs[jids[1]].cancel()  # running: asks the worker to stop.
    popped[jids[2]].complete()
    events = sorted(json.loads(message["data"])["event"] for message in listener.poll())
    assert events == ["canceled", "lock_lost"]


def test_the_listener_thread_stops_with_its_worker(client):
    stopped = threading.Event()
    listener = Listener(client.store, ["ql:w:nobody"], interval=0.01)

    def listen():
        for _message in listener.listen():
            pass
        stopped.set()

    thread = threading.Thread(target=listen)
    thread.start()
    listener.unlisten()
    thread.join(30)
    assert stopped.is_set()
