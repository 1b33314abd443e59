"""One writer at a time, handed over at once.

SQLite admits one writer; a connection that finds the write lock taken sleeps in its busy
handler (1, 2, 5, 10 ms ...) and looks again, so under contention most of a writer's time is
spent asleep after the lock was already free. The gate queues writers where a release wakes
the next one immediately: threads of one process on a ``threading.Lock``, processes on an
``flock`` of a side file (``<database>-writer``), which the kernel also releases when a process
dies. SQLite's own locking stays in force underneath; the gate only orders zerog's writers.
"""

from __future__ import annotations

import fcntl
import os
import threading
from types import TracebackType


class WriterGate:
    """A process-and-thread-wide exclusive lock for one database file's writers."""

    def __init__(self, database_path: str) -> None:
        self.path = f"{database_path}-writer"
        self._lock = threading.Lock()
        self._fd: int | None = None
        self._pid = 0

    def __enter__(self) -> WriterGate:
        self._lock.acquire()
        try:
            fcntl.flock(self._descriptor(), fcntl.LOCK_EX)
        except BaseException:
            self._lock.release()
            raise
        return self

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
        """Close this process's descriptor."""
        if self._fd is not None and self._pid == os.getpid():
            os.close(self._fd)
        self._fd = None
