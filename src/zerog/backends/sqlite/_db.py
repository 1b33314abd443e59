"""SQLite connections and transactions: one connection per thread and process, and a retry
loop so that no caller ever sees "database is locked".

SQLite allows one writer at a time. Every write transaction starts with ``BEGIN IMMEDIATE``,
which takes the write lock up front (a deferred transaction that reads first and writes later
can fail with SQLITE_BUSY without waiting, and cannot be saved by waiting). SQLite's own busy
handler waits up to ``busy_timeout`` for the lock; if that runs out, the whole transaction is
rolled back and run again after a short jittered pause, until ``lock_wait_seconds`` have passed
in all, and only then :class:`~zerog.errors.BackendUnavailable` is raised. Transaction bodies
must therefore have no effect outside the database: they may run more than once.

A connection must never cross a ``fork()``: SQLite's locks belong to the process that took
them. A child that finds its parent's connection opens its own and leaves the parent's alone:
never used, never closed (closing it in the child could drop locks the child holds).
"""

from __future__ import annotations

import contextlib
import os
import random
import sqlite3
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from zerog.backends.sqlite._gate import WriterGate
from zerog.backends.sqlite._sql import Q, Queries
from zerog.errors import BackendError, BackendUnavailable, ConfigurationError

T = TypeVar("T")

LOCK_WAIT_SECONDS = 60.0  # a transaction gives up waiting for the write lock after this long.
# Pauses between our retries, after SQLite's own busy handler gave up (at once when
# busy_timeout is 0): from 0.1 ms, as a transaction holds the lock for well under a
# millisecond, doubling up to 50 ms, each jittered by +-50% so that waiters spread out.
FIRST_PAUSE_SECONDS = 0.0001
PAUSE_CAP_SECONDS = 0.05
CACHED_STATEMENTS = 256  # prepared statements kept per connection (ours are a few dozen).
# A checkpoint (copying the WAL back into the database) costs two fsyncs under
# synchronous=NORMAL; a job's reserve and settle write about 8 pages, so SQLite's default of
# 1,000 pages would checkpoint every ~125 jobs. 10,000 pages (~40 MB of WAL) divides that cost
# by ten; the WAL file is cut back to JOURNAL_SIZE_LIMIT_BYTES after each checkpoint.
WAL_AUTOCHECKPOINT_PAGES = 10_000
JOURNAL_SIZE_LIMIT_BYTES = 64 << 20
_BUSY = frozenset({sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED})


class Connection(sqlite3.Connection):
    """A SQLite connection carrying SQLite's statements: the steps run ``conn.q.<name>`` (see
    _sql.Conn). A class attribute: ``execute`` stays sqlite3's own, at its own speed."""

    q: Queries = Q


_inherited: list[Connection] = []  # a parent's connections, kept so none is closed.
_databases: weakref.WeakSet[Database] = weakref.WeakSet()


@dataclass(frozen=True)
class Options:
    """How connections are opened."""

    path: str
    synchronous: str = "NORMAL"  # WAL + NORMAL loses nothing on a process crash.
    busy_timeout_seconds: float = 5.0
    lock_wait_seconds: float = LOCK_WAIT_SECONDS


class Database:
    """The connections of one backend to one SQLite file."""

    def __init__(self, options: Options) -> None:
        self.options = options
        self.busy_retries = 0  # transactions run again because the lock was busy (diagnostic).
        self._local = threading.local()
        self._lock = threading.Lock()
        self._connections: list[tuple[threading.Thread, Connection]] = []
        self._busy: dict[Connection, int] = {}  # connections inside run(), and how deep.
        self._closed = False
        self.gate = WriterGate(options.path, options.lock_wait_seconds)
        _databases.add(self)

    # --- connections -------------------------------------------------------------------------

    def connection(self) -> Connection:
        """This thread's connection in this process, opened on first use."""
        local = self._local
        conn: Connection | None = getattr(local, "conn", None)
        if conn is not None and local.pid == os.getpid() and not self._closed:
            return conn
        return self._open_for_thread()

    def _open_for_thread(self) -> Connection:
        with self._lock:
            if self._closed:
                raise self._closed_error()
            self._close_dead_threads()
            conn = self._connect()
            self._connections.append((threading.current_thread(), conn))
        self._local.conn, self._local.pid = conn, os.getpid()
        return conn

    def _connect(self) -> Connection:
        conn = None
        try:
            conn = sqlite3.connect(
                self.options.path,
                timeout=self.options.busy_timeout_seconds,
                isolation_level=None,  # autocommit: we write BEGIN IMMEDIATE / COMMIT ourselves.
                check_same_thread=False,  # only close() touches another thread's connection.
                cached_statements=CACHED_STATEMENTS,
                factory=Connection,
            )
            conn.execute(f"PRAGMA synchronous = {self.options.synchronous}")
            conn.execute(f"PRAGMA wal_autocheckpoint = {WAL_AUTOCHECKPOINT_PAGES}")
            conn.execute(f"PRAGMA journal_size_limit = {JOURNAL_SIZE_LIMIT_BYTES}")
        except sqlite3.Error as exc:
            if conn is not None:
                conn.close()
            raise ConfigurationError(
                f"cannot use {self.options.path} as a SQLite database: {exc}"
            ) from exc
        return conn

    def _close_dead_threads(self) -> None:
        """Close the connections of threads that ended (caller holds the lock)."""
        alive = []
        for thread, conn in self._connections:
            if thread.is_alive():
                alive.append((thread, conn))
            else:
                conn.close()
        self._connections = alive

    def close(self) -> None:
        """Close every connection this process opened, those of other threads too; the
        database is unusable afterwards. A connection another thread is using right now is
        closed by that thread as its call ends (closing it under the call would crash the
        process in SQLite's C code); the call itself finishes, later ones are refused."""
        with self._lock:
            self._closed = True
            for _, conn in self._connections:
                if conn not in self._busy:
                    conn.close()
            self._connections = []
        self.gate.close()  # outside the lock: it waits for a writer that needs the lock.

    def _closed_error(self) -> BackendUnavailable:
        return BackendUnavailable(f"the SQLite backend on {self.options.path} is closed")

    def _enter(self) -> Connection:
        """This thread's connection, marked in use until :meth:`_leave`."""
        conn = self.connection()
        with self._lock:
            if self._closed:
                raise self._closed_error()
            self._busy[conn] = self._busy.get(conn, 0) + 1
        return conn

    def _leave(self, conn: Connection) -> None:
        with self._lock:
            depth = self._busy.pop(conn) - 1
            if depth:
                self._busy[conn] = depth
            elif self._closed:
                conn.close()  # close() left it to this thread.

    def _after_fork_in_child(self) -> None:
        self._lock = threading.Lock()  # the parent's lock may have been held by another thread.
        self.gate.after_fork_in_child()
        _inherited.extend(conn for _, conn in self._connections)
        self._connections = []
        self._busy = {}

    # --- transactions ------------------------------------------------------------------------

    def write(self, body: Callable[[Connection], T]) -> T:
        """Run ``body`` in a write transaction (``BEGIN IMMEDIATE``), retried while busy;
        writers queue at the gate first, so the lock passes from one to the next at once."""
        if self._closed:
            raise self._closed_error()
        with self.gate:
            return self.run(body, "BEGIN IMMEDIATE")

    def read(self, body: Callable[[Connection], T], snapshot: bool = False) -> T:
        """Run ``body`` as reads; with ``snapshot`` all of them see one state of the file."""
        return self.run(body, "BEGIN" if snapshot else None)

    def run(self, body: Callable[[Connection], T], begin: str | None) -> T:
        """Run ``body`` (inside ``begin`` ... COMMIT when given), retried while busy."""
        conn = self._enter()
        try:
            return self._retried(conn, body, begin)
        finally:
            self._leave(conn)

    def _retried(self, conn: Connection, body: Callable[[Connection], T], begin: str | None) -> T:
        deadline = time.monotonic() + self.options.lock_wait_seconds
        pause = FIRST_PAUSE_SECONDS
        while True:
            try:
                if begin is None:
                    return body(conn)
                conn.execute(begin)
                result = body(conn)
                conn.execute("COMMIT")
                return result
            except sqlite3.Error as exc:
                _rollback(conn)
                if not is_busy(exc):
                    raise BackendError(f"SQLite error on {self.options.path}: {exc}") from exc
                left = deadline - time.monotonic()
                if left <= 0:
                    raise self._gave_up() from exc
                self.busy_retries += 1
                self._pause(min(left, pause * random.uniform(0.5, 1.5)))
                pause = min(PAUSE_CAP_SECONDS, pause * 2)
            except BaseException:
                _rollback(conn)
                raise

    def _pause(self, seconds: float) -> None:
        """Wait before running a transaction again (tests replace this to observe retries)."""
        time.sleep(seconds)

    def _gave_up(self) -> BackendUnavailable:
        return BackendUnavailable(
            f"the SQLite database {self.options.path} stayed locked by another connection for "
            f"{self.options.lock_wait_seconds:g} s; is a process holding a long transaction "
            f"open on it?"
        )


def is_busy(exc: sqlite3.Error) -> bool:
    """Whether an error means "another connection holds the lock, try again"."""
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in _BUSY
    text = str(exc).lower()
    return "locked" in text or "busy" in text


def _rollback(conn: Connection) -> None:
    if conn.in_transaction:
        # SQLite may have rolled back already (e.g. after SQLITE_FULL); that is fine.
        with contextlib.suppress(sqlite3.Error):
            conn.execute("ROLLBACK")


def _after_fork_in_child() -> None:
    for database in list(_databases):
        database._after_fork_in_child()


os.register_at_fork(after_in_child=_after_fork_in_child)
