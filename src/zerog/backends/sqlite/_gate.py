"""One writer at a time, handed over at once.

SQLite admits one writer; a connection that finds the write lock taken sleeps in its busy
handler (1, 2, 5, 10 ms ...) and looks again, so under contention most of a writer's time is
spent asleep after the lock was already free. The gate queues writers where a release wakes
the next one immediately: threads of one process on a ``threading.Lock``, processes on an
``flock`` of a side file (``<database>-writer``), which the kernel also releases when a process
dies. SQLite's own locking stays in force underneath; the gate only orders zerog's writers.

Waiting is bounded: a process stopped (SIGSTOP) while it holds the gate must not freeze every
other writer without a word, so the gate is polled without blocking: first only yielding the
CPU between polls (a transaction takes about a tenth of a millisecond, and a sleep of even
20 µs lasts 70 µs on Linux), then every millisecond, and
after ``wait_seconds`` the caller gets BackendUnavailable naming the file.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from types import TracebackType

from zerog.errors import BackendUnavailable

QUICK_POLLS = 2000  # polls that only yield the CPU (a few ms in all), then every POLL_SECONDS.
POLL_SECONDS = 0.001


class WriterGate:
    """A process-and-thread-wide exclusive lock for one database file's writers."""

    def __init__(self, database_path: str, wait_seconds: float = 60.0) -> None:
        self.path = f"{database_path}-writer"
        self.wait_seconds = wait_seconds
        self._lock = threading.Lock()
        self._fd: int | None = None
        self._pid = 0
        self._closed = False

    def __enter__(self) -> WriterGate:
        if not self._lock.acquire(timeout=self.wait_seconds):
            raise self._stuck()
        try:
            if self._closed:
                raise BackendUnavailable(f"the write gate {self.path} is closed")
            self._take(self._descriptor())
        except BaseException:
            self._lock.release()
            raise
        return self

    def _take(self, fd: int) -> None:
        deadline = time.monotonic() + self.wait_seconds
        polls = 0
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                polls += 1
                if time.monotonic() > deadline:
                    raise self._stuck() from None
                time.sleep(0 if polls < QUICK_POLLS else POLL_SECONDS)

    def _stuck(self) -> BackendUnavailable:
        return BackendUnavailable(
            f"another process has held the write lock of {self.path} for over "
            f"{self.wait_seconds:g} s; is a zerog process stopped (SIGSTOP) or hung?"
        )

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            if self._fd is not None:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._lock.release()

    def _descriptor(self) -> int:
        """This process's own descriptor: one inherited through fork() shares its lock with
        the parent, so a child opens the file again."""
        if self._fd is None or self._pid != os.getpid():
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            self._pid = os.getpid()
        return self._fd

    def after_fork_in_child(self) -> None:
        """A child starts with a fresh thread lock (a parent's thread may have held it)."""
        self._lock = threading.Lock()
        self._fd = None

    def close(self) -> None:
        """Close this process's descriptor, once the writer of this process that is inside
        the gate (if any) has left it: closing it under that writer's flock() would fail it.
        Writers that come later are refused."""
        taken = self._lock.acquire(timeout=self.wait_seconds)
        try:
            self._closed = True
            if self._fd is not None and self._pid == os.getpid():
                os.close(self._fd)
            self._fd = None
        finally:
            if taken:
                self._lock.release()
