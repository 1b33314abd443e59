"""qless-py's worker classes on zerog: in this process, in greenlets, and as zerog worker
processes (ForkingWorker), on real SQLite stores."""

from __future__ import annotations

import importlib.util
import os
import threading
import time

import pytest

from tests.faces.qless_classes import Done, Slow
from zerog import qless
from zerog.errors import ConfigurationError
from zerog.qless.workers import Worker
from zerog.qless.workers.forking import ForkingWorker
from zerog.qless.workers.greenlet import GeventWorker
from zerog.qless.workers.serial import SerialWorker

WAIT_SECONDS = 60  # a generous bound for a loaded machine; tests end as soon as it is met.


@pytest.fixture
def client(process_store):
    return qless.client()


def wait_until(check, seconds=WAIT_SECONDS):
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_worker_helpers(tmp_path):
    groups = Worker.divide(range(10), 3)
    assert sorted(n for group in groups for n in group) == list(range(10))
    assert max(map(len, groups)) - min(map(len, groups)) <= 1
    sandbox = tmp_path / "box"
    with Worker.sandbox(str(sandbox)):
        (sandbox / "left-over").write_text("x")
        (sandbox / "dir").mkdir()
    assert list(sandbox.iterdir()) == []
    Worker.title("working")
    assert Worker.title() == "qless-py-worker working"
    with pytest.raises(NotImplementedError):
        Worker([], qless.client("memory://")).kill("jid")


def test_a_worker_resumes_the_jobs_it_still_holds_first(client):
    first = client.queues["a"].put(Done, {})
    client.queues["a"].put(Done, {})
    client.queues["a"].pop()
    worker = Worker(["a"], client, resume=True)
    assert [job.jid for job in worker.resume] == [first]
    assert next(worker.jobs()).jid == first
    taken = qless.client(hostname="other").queues["a"].pop()  # another worker holds it.
    assert next(Worker(["a"], client, resume=[client.jobs[taken.jid]]).jobs()) is None


def test_serial_worker_runs_jobs_until_stopped(client, tmp_path):
    jids = [client.queues["a"].put(Done, {}) for _ in range(3)]
    worker = SerialWorker(["a"], client, interval=0.05, sandbox=str(tmp_path / "sandbox"))
    thread = threading.Thread(target=worker.run)
    thread.start()
    wait_until(lambda: all(client.jobs[jid].state == "complete" for jid in jids))
    worker.stop()
    thread.join(WAIT_SECONDS)
    assert not thread.is_alive()
    assert client.jobs[jids[0]]["sandbox"] == str(tmp_path / "sandbox")


class KillRecorder(SerialWorker):
    """A serial worker that records the jobs it is told it lost instead of exiting."""

    killed: list[str]

    def kill(self, jid):
        self.killed.append(jid)


def test_serial_worker_hears_that_its_job_timed_out(client, tmp_path, monkeypatch):
    monkeypatch.setattr("zerog.qless.listener.POLL_SECONDS", 0.05)
    release = tmp_path / "release"
    jid = client.queues["a"].put(Slow, {"release": str(release)})
    worker = KillRecorder(["a"], client, interval=0.05)
    worker.killed = []
    thread = threading.Thread(target=worker.run)
    thread.start()
    wait_until(lambda: client.jobs[jid].state == "running")
    client.jobs[jid].timeout()
    wait_until(lambda: worker.killed == [jid])
    release.write_text("go")
    worker.stop()
    thread.join(WAIT_SECONDS)
    assert not thread.is_alive()


def test_gevent_worker_needs_gevent(client):
    if importlib.util.find_spec("gevent") is None:
        with pytest.raises(ConfigurationError, match=r"pip install 'zerog\[gevent\]'"):
            GeventWorker(["a"], client)
        return
    jids = [client.queues["a"].put(Done, {}) for _ in range(3)]

    class Three(GeventWorker):
        @classmethod
        def patch(cls):
            pass

        def jobs(self):
            for index, job in enumerate(GeventWorker.jobs(self)):
                if index >= 3:
                    return
                yield job

    Three(["a"], client, greenlets=2, interval=0.05).run()
    assert [client.jobs[jid].state for jid in jids] == ["complete"] * 3


def test_forking_worker_runs_jobs_in_zerog_worker_processes(client, tmp_path):
    jids = [client.queues["a"].put(Done, {}) for _ in range(2)]
    worker = ForkingWorker(["a"], client, workers=2, interval=0.1, workdir=str(tmp_path))
    assert isinstance(worker.spawn(), SerialWorker)
    thread = threading.Thread(target=worker.run)
    thread.start()
    wait_until(lambda: all(client.jobs[jid].state == "complete" for jid in jids))
    worker.stop()
    thread.join(WAIT_SECONDS)
    assert not thread.is_alive()
    pids = {client.jobs[jid]["pid"] for jid in jids}
    assert os.getpid() not in pids
    assert all("zerog-workers/sandbox-" in client.jobs[jid]["cwd"] for jid in jids)


def test_forking_worker_needs_a_store_other_processes_can_open():
    worker = ForkingWorker(["a"], qless.client("memory://"), workers=1)
    with pytest.raises(ConfigurationError, match="other processes can open"):
        worker.command()
