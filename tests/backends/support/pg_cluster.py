"""A PostgreSQL cluster of a test's own: ``initdb`` in a temporary directory, ``pg_ctl`` on a
free port, so a test may restart or stop the server without touching the shared one.

The binaries are Debian's server package's (``/usr/lib/postgresql/<version>/bin``, the newest).
``initdb`` refuses to run as root, so as root every command runs as the ``postgres`` user
(``runuser``) and the data directory is theirs. Authentication is ``trust`` on 127.0.0.1 only;
no Unix socket is made. A machine without the package fails the test with what to install.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.backends.support.beanstalkd import free_port

START_SECONDS = 60  # pg_ctl's wait for the server to accept connections (a loaded machine).
USER = "postgres"


def binaries() -> Path:
    """The newest installed server's bin directory."""
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    if not found:
        pytest.fail(
            "no PostgreSQL server binaries in /usr/lib/postgresql/*/bin: install Debian's "
            "package (apt-get install postgresql) to run these tests",
            pytrace=False,
        )
    return found[-1].parent


class Cluster:
    """One cluster: its directory, its port, and commands to start, stop and restart it."""

    def __init__(self) -> None:
        self.bin = binaries()
        self.root = Path(tempfile.mkdtemp(prefix="zerog-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        self._as_postgres = os.geteuid() == 0
        if self._as_postgres:  # the postgres user must own the directory and reach it.
            entry = pwd.getpwnam(USER)
            os.chown(self.root, entry.pw_uid, entry.pw_gid)
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8")

    def url(self, database: str = "postgres") -> str:
        """A URL of a database of this cluster, as user postgres."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories='' "
            f"-c max_connections=100 -c fsync=on"
        )
        log = str(self.root / "server.log")
        self._run(
            "pg_ctl", "-D", str(self.data), "-l", log, "-w", "-t", str(START_SECONDS), "-o",
            options, "start",
        )  # fmt: skip

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (``fast``: sessions are ended; ``immediate``: as a crash)."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def restart(self, mode: str = "fast") -> None:
        """Stop the server, then start it again on the same port."""
        self.stop(mode)
        self.start()

    def connect(self, database: str = "postgres") -> psycopg.Connection[tuple[object, ...]]:
        """A plain autocommit connection (to look or to kill)."""
        return psycopg.connect(self.url(database), autocommit=True, connect_timeout=10)

    def destroy(self) -> None:
        """Stop the server (immediately) and remove its directory."""
        if (self.data / "postmaster.pid").exists():
            with contextlib.suppress(subprocess.CalledProcessError):
                self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)

    def _run(self, program: str, *args: str) -> None:
        command = [str(self.bin / program), *args]
        if self._as_postgres:
            command = ["runuser", "-u", USER, "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=180, check=False)
        if done.returncode != 0:
            log = self.root / "server.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise subprocess.CalledProcessError(
                done.returncode, command, done.stdout, f"{done.stderr}\n{tail}"
            )


@contextlib.contextmanager
def own_cluster() -> Iterator[Cluster]:
    """A started cluster of the caller's own, destroyed afterwards however the block ends."""
    cluster = Cluster()
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.destroy()


def wait_accepting(cluster: Cluster, timeout: float = 60.0) -> None:
    """Poll until the cluster accepts a connection."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with cluster.connect():
                return
        except psycopg.OperationalError:
            assert time.monotonic() < deadline, "the cluster never accepted connections"
            time.sleep(0.1)
