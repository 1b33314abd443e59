"""``zerog serve`` as a user runs it: the API and a worker pool in one command."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

TOKEN = "cli-token"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZEROG_")}
    env.update(extra)
    return env


def call(url: str, method: str = "GET", data: Any = None, token: str | None = TOKEN) -> Any:
    body = None if data is None else json.dumps(data).encode()
    request = urllib.request.Request(url, data=body, method=method)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def wait_until_up(url: str, process: subprocess.Popen[Any], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, f"the server exited with {process.returncode}"
        try:
            call(url + "/healthz", token=None)
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError("the server did not come up")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``zerog serve --workers 2`` on a SQLite file, the token from the environment."""
    port = free_port()
    command = [sys.executable, "-m", "zerog", "serve", "--url", f"sqlite:///{tmp_path / 'j.db'}"]
    command += ["--port", str(port), "--workers", "2", "--import", "zerog.examples"]
    with (tmp_path / "server.log").open("w") as log:  # a file: a full pipe would block.
        process = subprocess.Popen(
            command,
            env=clean_env(ZEROG_TOKEN=TOKEN, ZEROG_GRACE="5"),
            cwd=tmp_path,
            stdout=log,
            stderr=log,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url, process)
        yield url, process
    finally:
        # SIGTERM, so serve stops its worker pool too (the pool has its own process group
        # and would outlive a SIGKILLed server); SIGKILL only if it does not stop.
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        process.wait(timeout=30)


def test_serve_runs_the_api_and_a_worker_pool(server: tuple[str, subprocess.Popen[bytes]]) -> None:
    url, process = server
    # Given the server is up, the token is needed,
    with pytest.raises(urllib.error.HTTPError) as refused:
        call(url + "/api/jobs", token=None)
    assert refused.value.code == 401
    refused.value.close()
    # When a job is posted,
    values = {"title": "cli", "steps": 2, "step_seconds": 0.05}
    uuid = call(url + "/api/jobs/example_report", "POST", values)["uuid"]
    # Then the pool's workers run it to completion,
    deadline = time.monotonic() + 30
    while call(f"{url}/api/jobs/{uuid}")["state"] != "complete":
        assert time.monotonic() < deadline, call(f"{url}/api/jobs/{uuid}")
        time.sleep(0.1)
    # and two workers are registered (on a backend with a registry).
    workers = call(url + "/api/workers")["workers"]
    assert len(workers) == 2
    pids = [worker["pid"] for worker in workers]
    # When the server gets SIGTERM, it stops, and its workers with it.
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 0
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def test_serve_refuses_a_port_in_use(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "zerog", "serve", "--url", "memory://", "--port", str(port)],
            env=clean_env(),
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=30,
        )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert lines[-1].startswith("zerog: error: cannot listen on 127.0.0.1:"), done.stderr
    assert "Traceback" not in done.stderr


def test_serve_help_names_each_flag_and_its_variable() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "zerog", "serve", "--help"],
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    for variable in ("ZEROG_URL", "ZEROG_HOST", "ZEROG_PORT", "ZEROG_TOKEN", "ZEROG_WORKERS"):
        assert variable in done.stdout
    assert "127.0.0.1" in done.stdout


def test_serve_refuses_workers_on_a_memory_store(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "zerog", "serve", "--url", "memory://", "--workers", "2"],
        env=clean_env(),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 2
    assert "memory://" in done.stderr.strip().splitlines()[-1]
