"""A beanstalkd of the tests' own: on a free port of 127.0.0.1, with a binlog directory.

The conformance suite shares one server per test session (:func:`shared`), each test using tube
names of its own (a random ``prefix``) and a fresh store (a SQLite file, or a PostgreSQL
schema), so that tests never see each other's entries. Tests that stop, kill or restart
beanstalkd start their own :class:`Beanstalkd`. A machine without beanstalkd fails these tests
(never skips them): the message says to run ``make deps``.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest

START_TIMEOUT_SECONDS = 10.0


def free_port() -> int:
    """A TCP port nobody listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def executable() -> str:
    """beanstalkd's path; the test fails with what to do when it is not installed."""
    found = shutil.which("beanstalkd")
    if found is None:
        pytest.fail(
            "beanstalkd is not installed, and the beanstalk backend's tests need it: run "
            "`make deps` (it installs Debian's beanstalkd), then the tests again",
            pytrace=False,
        )
    return found


class Beanstalkd:
    """One beanstalkd process; ``binlog`` None runs it without ``-b`` (not durable);
    ``options`` are more command-line options (``-z 10``)."""

    def __init__(
        self, binlog: Path | None, port: int | None = None, options: tuple[str, ...] = ()
    ) -> None:
        self.binlog = binlog
        self.port = port or free_port()
        self.options = options
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> Beanstalkd:
        """Start it and wait until it accepts connections."""
        command = [executable(), "-l", "127.0.0.1", "-p", str(self.port)]
        if self.binlog is not None:
            self.binlog.mkdir(parents=True, exist_ok=True)
            command += ["-b", str(self.binlog)]
        command += self.options
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                err = self.process.stderr.read().decode() if self.process.stderr else ""
                self.stop()
                pytest.fail(f"beanstalkd did not start: {err}", pytrace=False)
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return self
            except OSError:
                time.sleep(0.01)
        self.stop()
        pytest.fail(f"beanstalkd did not listen on port {self.port}", pytrace=False)

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
        process.wait(timeout=10)
        if process.stderr is not None:
            process.stderr.close()

    def restart(self, kill: bool = False) -> None:
        """Stop it and start it again on the same port and binlog."""
        self.stop(kill)
        self.start()

    def url(self, store: Path | str, prefix: str | None = None) -> str:
        """A beanstalk:// URL on this server with its records in a SQLite file at ``store``
        (a path) or in the store a URL names (a str, percent-encoded here); a random tube
        prefix unless one is given."""
        prefix = f"t{uuid.uuid4().hex[:10]}." if prefix is None else prefix
        store_url = store if isinstance(store, str) else f"sqlite:///{store}"
        return (
            f"beanstalk://127.0.0.1:{self.port}"
            f"?store={quote(store_url, safe='')}&prefix={quote(prefix, safe='')}"
        )


_shared: Beanstalkd | None = None
_shared_dir: str | None = None


def shared() -> Beanstalkd:
    """The session's server, started at its first use; :func:`stop_shared` stops it."""
    global _shared, _shared_dir
    if _shared is None:
        _shared_dir = tempfile.mkdtemp(prefix="zerog-beanstalkd-")
        _shared = Beanstalkd(Path(_shared_dir) / "binlog").start()
    return _shared


def stop_shared() -> None:
    """Stop the session's server, if it was started, and remove its binlog."""
    global _shared, _shared_dir
    if _shared is not None:
        _shared.stop()
        _shared = None
    if _shared_dir is not None:
        shutil.rmtree(_shared_dir, ignore_errors=True)
        _shared_dir = None
