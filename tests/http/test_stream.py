"""The live stream of a job, followed to its final state while a real worker process runs it;
and slow clients (streams, trickled bodies, slow store calls) that must not stall the others."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.http.conftest import Client, Serve, memory_store, sqlite_store
from tests.http.http_jobs import QUEUE, SLOW_TYPE, make_failed, put
from zerog.backends.memory import MemoryBackend
from zerog.http import Limits
from zerog.settings import Settings
from zerog.store import Store

ROOT = Path(__file__).resolve().parents[2]
FAST = Limits(stream_poll_seconds=0.05, stream_keepalive_seconds=0.3)


def sse_messages(client: Client, uuid: str, timeout: float = 30.0) -> Iterator[dict[str, Any]]:
    """Each ``data:`` message of the job's stream, until the server closes it."""
    conn = http.client.HTTPConnection(client.host, client.port, timeout=timeout)
    try:
        conn.request("GET", f"/api/jobs/{uuid}/stream")
        response = conn.getresponse()
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/event-stream")
        while line := response.readline():
            if line.startswith(b"data: "):
                yield json.loads(line[len(b"data: ") :])
    finally:
        conn.close()


@pytest.fixture
def worker_process(tmp_path: Path) -> Iterator[Any]:
    """Start ``python -m zerog worker`` on a SQLite URL, with the test job modules; stopped
    with SIGTERM (a drain) after the test."""
    started: list[subprocess.Popen[bytes]] = []

    def start(url: str, *queues: str) -> subprocess.Popen[bytes]:
        command = [sys.executable, "-m", "zerog", "worker", "--url", url, "--path", str(ROOT)]
        command += ["--import", "zerog.examples", "--import", "tests.http.http_jobs"]
        command += ["--interval", "0.1", "--grace", "5"]
        for queue in queues:
            command += ["-q", queue]
        env = {k: v for k, v in os.environ.items() if not k.startswith("ZEROG_")}
        process = subprocess.Popen(command, env=env, cwd=tmp_path, stdin=subprocess.DEVNULL)
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


def test_stream_follows_a_job_to_complete_while_a_worker_runs_it(
    serve: Serve, tmp_path: Path, worker_process: Any
) -> None:
    # Given a server on a SQLite file, a report job of three steps enqueued through it,
    store = sqlite_store(tmp_path / "jobs.db")
    api = serve(store, limits=FAST)
    values = {"title": "report", "steps": 3, "step_seconds": 0.3}
    uuid = api.post("/api/jobs/example_report", values).json()["uuid"]
    # and a worker process started on the same file,
    worker_process(store.settings.url, "examples")
    # When the job's stream is followed to its end,
    messages = list(sse_messages(api, uuid))
    store.close()
    # Then it showed the job waiting, running and complete, in that order,
    states = [m["state"] for m in messages]
    assert states[0] == "waiting"
    assert "running" in states
    assert states[-1] == "complete"
    assert states.index("running") < len(states) - 1
    # with completeness rising to 1, each log line once, and the result at the end.
    completeness = [m["completeness"] for m in messages]
    assert completeness == sorted(completeness)
    assert completeness[-1] == 1.0
    lines = [event["msg"] for m in messages for event in m["events"]]
    assert lines == [f"report: step {n} of 3 done" for n in (1, 2, 3)]
    assert messages[-1]["final"] is True
    assert messages[-1]["result"] == {"title": "report", "steps": 3}
    assert all(m["final"] is False for m in messages[:-1])


def test_stream_follows_a_cancel_to_the_end(
    serve: Serve, tmp_path: Path, worker_process: Any
) -> None:
    store = sqlite_store(tmp_path / "jobs.db")
    api = serve(store, limits=FAST)
    uuid = api.post(f"/api/jobs/{SLOW_TYPE}", {"seconds": 30}).json()["uuid"]
    worker_process(store.settings.url, QUEUE)
    seen: list[str] = []
    for message in sse_messages(api, uuid):
        seen.append(message["state"])
        if message["state"] == "running" and seen.count("running") == 1:
            assert api.post(f"/api/jobs/{uuid}/cancel").json()["requested"] is True
    store.close()
    assert seen[-1] == "cancelled"


def test_stream_of_a_finished_job_is_one_message(serve: Serve) -> None:
    store = memory_store()
    api = serve(store, limits=FAST)
    uuid = make_failed(store)
    (message,) = sse_messages(api, uuid)
    assert message["state"] == "failed"
    assert message["final"] is True
    assert message["errors"][-1]["msg"] == "broken"


def test_stream_of_an_unknown_job_is_404(serve: Serve) -> None:
    api = serve(memory_store())
    reply = api.get("/api/jobs/nope/stream")
    assert reply.status == 404
    assert "error" in reply.json()


def test_idle_stream_sends_keepalives(serve: Serve) -> None:
    store = memory_store()
    api = serve(store, limits=FAST)
    uuid = put(store)
    with socket.create_connection((api.host, api.port), timeout=10) as sock:
        sock.sendall(f"GET /api/jobs/{uuid}/stream HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        received = b""
        deadline = time.monotonic() + 5
        while b": keep-alive" not in received and time.monotonic() < deadline:
            received += sock.recv(65536)
    assert b"retry: 2000" in received
    assert b": keep-alive" in received


class SlowCounts(MemoryBackend):
    """A backend whose counts take a second (a big table, a slow disk)."""

    def counts(self) -> dict[str, dict[str, int]]:
        time.sleep(1.0)
        return super().counts()


def test_slow_clients_and_slow_calls_do_not_stall_others(serve: Serve) -> None:
    # Given a server with ten open streams that nobody reads,
    store = Store(SlowCounts(), Settings(url="memory://"))
    api = serve(store, limits=FAST)
    uuid = put(store)
    streams = [socket.create_connection((api.host, api.port), timeout=10) for _ in range(10)]
    for sock in streams:
        sock.sendall(f"GET /api/jobs/{uuid}/stream HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    # a client trickling a request body, a byte at a time,
    trickler = socket.create_connection((api.host, api.port), timeout=10)
    trickler.sendall(
        b"POST /api/jobs/http_test_rich HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"
    )
    # and three slow store calls under way,
    slow = [threading.Thread(target=api.get, args=("/api/queues",)) for _ in range(3)]
    for thread in slow:
        thread.start()
    time.sleep(0.1)
    try:
        # When other clients read jobs meanwhile,
        started = time.monotonic()
        for _ in range(20):
            assert api.get(f"/api/jobs/{uuid}").status == 200
            assert api.get("/healthz").status == 200
        elapsed = time.monotonic() - started
    finally:
        for thread in slow:
            thread.join()
        for sock in [*streams, trickler]:
            sock.close()
    # Then they are answered at once, not after the slow ones.
    assert elapsed < 0.9, elapsed
