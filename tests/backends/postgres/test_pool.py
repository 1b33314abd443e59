"""The shared pool of connections (``pool=N``, psycopg_pool): many threads' calls share N
connections, and ``zerog serve`` on PostgreSQL serves concurrent requests from its pool."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg
import pytest

from tests.backends.support import postgres_server
from tests.backends.support.helpers import job_record
from tests.http.test_serve_cli import TOKEN, call, clean_env, free_port, wait_until_up
from zerog.backends import open_backend
from zerog.backends.postgres import PostgresBackend
from zerog.cli.serve import pooled
from zerog.http import Limits


def _sessions(url: str, name: str) -> int:
    """Connections open to the URL's database under application_name ``name``."""
    with psycopg.connect(url.split("?")[0], autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", (name,)
        ).fetchone()
    assert row is not None
    return int(row[0])


def test_sixteen_threads_share_a_pool_of_two_connections() -> None:
    # Given a backend whose URL asks for a pool of 2
    name = f"zerog-pool-{uuid.uuid4().hex[:8]}"
    url = f"{postgres_server.url()}&pool=2&application_name={name}"
    backend = open_backend(url)
    assert isinstance(backend, PostgresBackend)
    try:
        # When 16 threads put and read 10 jobs each at once
        def work(_: int) -> int:
            for _ in range(10):
                record = job_record(backend)
                backend.put(record)
                assert backend.get(record["uuid"])["uuid"] == record["uuid"]
            return _sessions(url, name)

        with ThreadPoolExecutor(16) as threads:
            seen = list(threads.map(work, range(16)))
        # Then every call succeeded over at most 2 connections
        assert backend.counts()["q"]["waiting"] == 160
        assert max(seen) <= 2
    finally:
        backend.close()
    # Closed with the backend: the server's side of a closed connection leaves
    # pg_stat_activity when its process has exited, a moment after the client closed it.
    deadline = time.monotonic() + 30
    while _sessions(url, name) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _sessions(url, name) == 0


def test_pooled_adds_a_pool_to_postgres_urls_only() -> None:
    size = Limits().executor_threads
    assert pooled("postgresql://u@h/db") == f"postgresql://u@h/db?pool={size}"
    assert pooled("postgresql://u@h/db?schema=s") == f"postgresql://u@h/db?schema=s&pool={size}"
    assert pooled("postgresql://u@h/db?pool=3") == "postgresql://u@h/db?pool=3"
    assert pooled("sqlite:///x.db") == "sqlite:///x.db"


@pytest.fixture
def pg_server(tmp_path: Path) -> Iterator[tuple[str, str, str]]:
    """``zerog serve`` on a fresh PostgreSQL schema with a pool of 3 (fewer than its 8 request
    threads, so that sharing shows): (HTTP URL, store URL, application name)."""
    name = f"zerog-serve-{uuid.uuid4().hex[:8]}"
    store_url = f"{postgres_server.url()}&pool=3&application_name={name}"
    port = free_port()
    command = [sys.executable, "-m", "zerog", "serve", "--url", store_url, "--port", str(port)]
    command += ["--import", "zerog.examples"]
    with (tmp_path / "server.log").open("w") as log:
        process = subprocess.Popen(
            command, env=clean_env(ZEROG_TOKEN=TOKEN), stdout=log, stderr=log, cwd=tmp_path
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url, process, timeout=60.0)
        yield url, store_url, name
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_serve_on_postgres_answers_concurrent_requests_from_its_pool(
    pg_server: tuple[str, str, str],
) -> None:
    url, store_url, name = pg_server

    # When 24 clients at once each enqueue 5 jobs and read them back
    def client(n: int) -> list[str]:
        made = []
        for i in range(5):
            body = {"title": f"{n}-{i}", "steps": 1}
            made.append(call(f"{url}/api/jobs/example_report", "POST", body)["uuid"])
        for job in made:
            assert call(f"{url}/api/jobs/{job}")["uuid"] == job
        return made

    with ThreadPoolExecutor(24) as clients:
        made = [job for jobs in clients.map(client, range(24)) for job in jobs]
    # Then every request succeeded, over no more connections than the pool's size
    assert len(set(made)) == 120
    assert 1 <= _sessions(store_url, name) <= 3
