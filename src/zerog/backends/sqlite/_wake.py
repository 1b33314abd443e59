"""Wake-ups across the processes that share a SQLite file: a doorbell of sockets beside it.

SQLite tells no one of a commit. So each process whose workers wait for work binds a Unix
datagram socket in ``<file>-wake/`` (one per process, named by pid), and a process that made
a job ready rings every socket there: one tiny datagram each, non-blocking, best effort. A
waiting process's listener thread returns from ``poll`` the moment one arrives, and its
other idle threads with it; the claim that follows decides whether there was work.

Nothing is lost when a ring is: a waiter also wakes at its timeout (the poll interval) and
at the first scheduled job's due time. A socket whose process died refuses the datagram
(ECONNREFUSED) and is removed by whoever rang it. Ringing costs a ``stat`` of the directory
when nobody waits, and a few microseconds per waiting process when someone does.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import secrets
import select
import socket
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path

from zerog.backends.contract import Waiter

SUFFIX = ".sock"
MAX_DRAIN = 64  # datagrams read at most per wake-up (a burst of rings is one wake-up).
# A Unix socket's path holds at most 107 bytes (Linux's sun_path); a socket's own name
# ("<pid>-<8 hex>.sock") takes up to 23 of them and the separator one.
MAX_DIR_BYTES = 107 - 24


def wake_dir(database: Path) -> Path:
    """The directory of a database's doorbell sockets: beside it, or, where that path would
    make socket paths too long to bind, a directory in the temporary directory named by the
    database's absolute path (so every process that opens the file finds the same one)."""
    beside = database.with_name(database.name + "-wake")
    if len(os.fsencode(beside)) <= MAX_DIR_BYTES:
        return beside
    digest = hashlib.sha256(os.fsencode(database.resolve())).hexdigest()[:24]
    return Path(tempfile.gettempdir()) / f"zerog-wake-{os.getuid()}-{digest}"


class Doorbell:
    """Rings the sockets of the processes waiting on one database."""

    def __init__(self, database: Path) -> None:
        self.dir = wake_dir(database)
        self._sender: socket.socket | None = None  # made at the first ring with a listener.
        self._seen: tuple[float, list[str]] = (-1.0, [])  # the directory's mtime, its names.
        self._lock = threading.Lock()

    def ring(self) -> None:
        """Send one datagram to each waiting process (best effort, never raises)."""
        for name in self._names():
            try:
                self._socket().sendto(b"!", str(self.dir / name))
            except BlockingIOError:  # its buffer is full: it has rings enough to wake.
                continue
            except OSError as exc:
                if exc.errno in (errno.ECONNREFUSED, errno.ENOENT):  # its process is gone.
                    with contextlib.suppress(OSError):
                        (self.dir / name).unlink()

    def _names(self) -> list[str]:
        """The sockets now, read again only when the directory changed."""
        try:
            mtime = os.stat(self.dir).st_mtime
        except OSError:
            return []
        with self._lock:
            if mtime != self._seen[0]:
                names = [n for n in os.listdir(self.dir) if n.endswith(SUFFIX)]
                self._seen = (mtime, names)
            return self._seen[1]

    def _socket(self) -> socket.socket:
        with self._lock:
            if self._sender is None:
                self._sender = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
                self._sender.setblocking(False)
            return self._sender

    def close(self) -> None:
        """Close the sending socket."""
        with self._lock:
            sender, self._sender = self._sender, None
        if sender is not None:
            sender.close()


class SocketWaiter(Waiter):
    """This process's socket in the doorbell directory, and its idle threads waiting on it:
    one thread polls the socket, the others wait for it to tell them."""

    hears_others = True

    def __init__(self, database: Path) -> None:
        directory = wake_dir(database)
        directory.mkdir(mode=0o700, exist_ok=True)
        self.path = directory / f"{os.getpid()}-{secrets.token_hex(4)}{SUFFIX}"
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        try:
            self._sock.bind(str(self.path))
        except OSError:
            self._sock.close()
            raise
        self._sock.setblocking(False)
        self._listening = threading.Lock()  # held by the thread polling the socket.
        self._woken = threading.Condition()
        self._generation = 0  # counts wake-ups, so that a waiter knows it was woken.

    def wait(self, queues: Sequence[str], timeout: float) -> bool:
        with self._woken:
            seen = self._generation
        if self._listening.acquire(blocking=False):
            try:
                self._poll(max(0.0, timeout))
            finally:
                self._listening.release()
        else:
            with self._woken:
                self._woken.wait_for(lambda: self._generation != seen, max(0.0, timeout))
        with self._woken:
            return self._generation != seen

    def _poll(self, timeout: float) -> None:
        """Wait for a datagram; on one, read what else came and wake every waiter."""
        try:
            ready, _, _ = select.select([self._sock], [], [], timeout)
        except (OSError, ValueError):  # closed meanwhile.
            return
        if not ready:
            return
        for _ in range(MAX_DRAIN):
            try:
                self._sock.recv(16)
            except OSError:
                break
        with self._woken:
            self._generation += 1
            self._woken.notify_all()

    def interrupt(self) -> None:
        with self._woken:
            self._generation += 1
            self._woken.notify_all()
        with contextlib.suppress(OSError):  # wakes the polling thread too.
            self._sock.sendto(b"!", str(self.path))

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.path.unlink()
        self._sock.close()
