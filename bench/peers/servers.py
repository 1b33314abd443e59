"""The servers the suite runs on: its own redis-server and beanstalkd on free ports, and its
own PostgreSQL databases on the machine's server (127.0.0.1:5432, user postgres, trust).

Never the shared Redis on 6379: a run's numbers must not include anyone else's keys or
clients, and a FLUSHALL between runs must not touch anyone else's data. Everything started
here is stopped by ``close()``, which the runner calls in a ``finally`` (Ctrl-C included).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import psycopg
import redis

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_port(port: int, process: subprocess.Popen[bytes], what: str) -> None:
    """Until the server accepts connections (or has died, with its reason)."""
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{what} exited at start ({process.returncode})")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise SystemExit(f"{what} did not listen on port {port} within 15 s")


def start(argv: list[str], port: int, what: str) -> subprocess.Popen[bytes]:
    if shutil.which(argv[0]) is None:
        raise SystemExit(f"{argv[0]} is not installed: run `make bench-peers` (it installs it)")
    process = subprocess.Popen(
        argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    wait_port(port, process, what)
    return process


class Servers:
    """redis-server, beanstalkd and a scratch directory, for one invocation of the suite."""

    def __init__(self) -> None:
        self.scratch = Path(tempfile.mkdtemp(prefix="zerog-bench-peers-"))
        self.processes: list[subprocess.Popen[bytes]] = []
        self.redis_port = free_port()
        self.redis = self._keep(
            start(
                [
                    "redis-server",
                    "--port",
                    str(self.redis_port),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--dir",
                    str(self.scratch),
                ],
                self.redis_port,
                "redis-server",
            )
        )
        self.beanstalk_port = free_port()
        self.beanstalkd = self._keep(
            start(
                ["beanstalkd", "-l", "127.0.0.1", "-p", str(self.beanstalk_port)],
                self.beanstalk_port,
                "beanstalkd",
            )
        )
        self.pg = Postgres()

    def _keep(self, process: subprocess.Popen[bytes]) -> subprocess.Popen[bytes]:
        self.processes.append(process)
        return process

    @property
    def redis_url(self) -> str:
        return f"redis://127.0.0.1:{self.redis_port}/0"

    def flush_redis(self) -> None:
        """Empty the suite's Redis between runs (its own server, so nobody else's data)."""
        client = redis.Redis(port=self.redis_port)
        client.flushall()
        client.close()

    def server_pids(self, store: str) -> list[int]:
        """The store's server processes we started (PostgreSQL's are found per database)."""
        return {"redis": [self.redis.pid], "beanstalkd": [self.beanstalkd.pid]}.get(store, [])

    def close(self) -> None:
        self.pg.close()
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        shutil.rmtree(self.scratch, ignore_errors=True)


class Postgres:
    """Fresh databases named ``zerog_bench_<pid>_<n>``, one per run, dropped after it."""

    def __init__(self) -> None:
        self.prefix = f"zerog_bench_{os.getpid()}_"
        self.count = 0
        self.admin = psycopg.connect(PG_ADMIN, autocommit=True)
        self.version = self.admin.info.server_version

    @contextlib.contextmanager
    def database(self) -> Iterator[str]:
        """A new empty database for one run; its DSN."""
        self.count += 1
        name = f"{self.prefix}{self.count}"
        self.admin.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
        try:
            yield f"postgresql://postgres@127.0.0.1:5432/{name}"
        finally:
            self.drop(name)

    def drop(self, name: str) -> None:
        self.admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def close(self) -> None:
        """Drop every database of ours that is left (a run stopped by Ctrl-C)."""
        rows = self.admin.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE %s", (self.prefix + "%",)
        ).fetchall()
        for (name,) in rows:
            self.drop(name)
        self.admin.close()


def pg_backends(dsn: str) -> list[psutil.Process]:
    """The PostgreSQL backends serving a database, found by their process titles
    (``postgres: ... <user> <database> <client> <state>``): they are the postmaster's
    children, not ours, and come and go with the workers' connections."""
    name = f" {dsn.rsplit('/', 1)[1]} "
    found = []
    for process in postmaster().children():
        with contextlib.suppress(psutil.Error):
            if name in " ".join(process.cmdline()) + " ":
                found.append(process)
    return found


_postmaster: list[psutil.Process] = []


def postmaster() -> psutil.Process:
    """The PostgreSQL server's main process (found once, by its executable's name)."""
    if not _postmaster:
        for process in psutil.process_iter(["cmdline"]):
            cmdline = process.info["cmdline"] or []
            if cmdline and cmdline[0].endswith("/bin/postgres"):
                _postmaster.append(process)
                break
        else:
            raise SystemExit("no PostgreSQL server process found on this machine")
    return _postmaster[0]
