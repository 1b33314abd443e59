"""A redis-server of the tests' own: on a free port of 127.0.0.1, never the shared 6379, with
an append-only file fsynced at every write (``appendonly yes``, ``appendfsync always``) in a
directory of its own, and no snapshots.

The conformance suite shares one server per test session (:func:`shared`), each test using a
key prefix of its own (a random one), so that tests never see each other's keys. Tests that
stop, kill or restart the server start their own :class:`RedisServer`. A machine without
redis-server fails these tests (never skips them): the message says to run ``make deps``.
"""

from __future__ import annotations

import atexit
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import pytest

START_TIMEOUT_SECONDS = 20.0


def free_port() -> int:
    """A TCP port nobody listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def executable() -> str:
    """redis-server's path; the test fails with what to do when it is not installed."""
    found = shutil.which("redis-server")
    if found is None:
        pytest.fail(
            "redis-server is not installed, and the redis backend's tests need it: run "
            "`make deps` (it installs Debian's redis-server), then the tests again",
            pytrace=False,
        )
    return found


class RedisServer:
    """One redis-server process with its data in ``directory``; ``options`` are more
    configuration directives (``("maxmemory-policy", "allkeys-lru")``)."""

    def __init__(
        self,
        directory: Path,
        port: int | None = None,
        options: tuple[tuple[str, str], ...] = (),
    ) -> None:
        self.directory = directory
        self.port = port or free_port()
        self.options = options
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> RedisServer:
        """Start it and wait until it answers (its append-only file loaded)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        command = [
            executable(),
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--dir", str(self.directory),
            "--appendonly", "yes",
            "--appendfsync", "always",
            "--save", "",
            "--daemonize", "no",
            "--logfile", str(self.directory / "redis.log"),
        ]  # fmt: skip
        for name, value in self.options:
            command += [f"--{name}", value]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                err = self.process.stderr.read().decode() if self.process.stderr else ""
                self.stop()
                pytest.fail(f"redis-server did not start: {err}", pytrace=False)
            if self._answers():
                return self
            time.sleep(0.01)
        self.stop()
        pytest.fail(f"redis-server did not answer on port {self.port}", pytrace=False)

    def _answers(self) -> bool:
        """Whether the server answers PING with PONG (not LOADING)."""
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(64).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self, kill: bool = False) -> None:
        """Stop it (SIGTERM, or SIGKILL with ``kill``) and wait for it."""
        process, self.process = self.process, None
        if process is None:
            return
        if process.poll() is None:
            if kill:
                process.kill()
            else:
                process.terminate()
        process.wait(timeout=20)
        if process.stderr is not None:
            process.stderr.close()

    def restart(self, kill: bool = False) -> None:
        """Stop it and start it again on the same port and data."""
        self.stop(kill)
        self.start()

    def url(self, prefix: str | None = None, db: int = 0) -> str:
        """A redis:// URL of this server with a key prefix of its own (a random one unless
        given)."""
        prefix = f"t{uuid.uuid4().hex[:12]}" if prefix is None else prefix
        return f"redis://127.0.0.1:{self.port}/{db}?prefix={prefix}"


_shared: RedisServer | None = None
_shared_dir: str | None = None


def shared() -> RedisServer:
    """The session's server, started at its first use; :func:`stop_shared` stops it."""
    global _shared, _shared_dir
    if _shared is None:
        _shared_dir = tempfile.mkdtemp(prefix="zerog-redis-")
        _shared = RedisServer(Path(_shared_dir)).start()
        atexit.register(stop_shared)  # test folders without a session fixture stopping it.
    return _shared


def stop_shared() -> None:
    """Stop the session's server, if it was started, and remove its data."""
    global _shared, _shared_dir
    if _shared is not None:
        _shared.stop()
        _shared = None
    if _shared_dir is not None:
        shutil.rmtree(_shared_dir, ignore_errors=True)
        _shared_dir = None
