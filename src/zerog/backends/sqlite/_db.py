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
them. :mod:`zerog.backends.sql.connections` keeps one connection per thread and process, and
a child leaves its parent's connections alone: never used, never closed.
"""

from __future__ import annotations

import contextlib
import random
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from zerog.backends.sql.connections import ThreadConnections
from zerog.backends.sql.statements import Queries
from zerog.backends.sqlite._gate import WriterGate
from zerog.backends.sqlite._sql import DIALECT, Q
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
    :class:`zerog.backends.sql.statements.Conn`). A class attribute: ``execute`` stays
    sqlite3's own, at its own speed."""

    q: Queries = Q


@dataclass(frozen=True)
class Options:
    """How connections are opened."""

    path: str
    synchronous: str = "NORMAL"  # WAL + NORMAL loses nothing on a process crash.
    busy_timeout_seconds: float = 5.0
    lock_wait_seconds: float = LOCK_WAIT_SECONDS


class Database(ThreadConnections["Connection"]):
    """The connections of one backend to one SQLite file: the SQLite dialect's
    :class:`zerog.backends.sql.Database`."""

    dialect = DIALECT

    def __init__(self, options: Options) -> None:
        super().__init__()
        self.options = options
        self.busy_retries = 0  # transactions run again because the lock was busy (diagnostic).
        self.gate = WriterGate(options.path, options.lock_wait_seconds)

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

    def _close_one(self, conn: Connection) -> None:
        conn.close()

    def _closed_error(self) -> BackendUnavailable:
        return BackendUnavailable(f"the SQLite backend on {self.options.path} is closed")

    def close(self) -> None:
        """Close every connection (see ThreadConnections.close_connections), then the write
        gate, which waits for this process's writer inside it, if any."""
        self.close_connections()
        self.gate.close()

    def _after_fork_in_child(self) -> None:
        super()._after_fork_in_child()
        self.gate.after_fork_in_child()

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

    def run_script(self, script: str) -> None:
        """Run ``script`` in one ``BEGIN IMMEDIATE`` transaction, retried while busy
        (``executescript`` runs statements as written: the script carries its transaction)."""
        self.run(lambda conn: conn.executescript(f"BEGIN IMMEDIATE;\n{script}\nCOMMIT;"), None)

    def run(self, body: Callable[[Connection], T], begin: str | None) -> T:
        """Run ``body`` (inside ``begin`` ... COMMIT when given), retried while busy."""
        conn = self.enter()
        try:
            return self._retried(conn, body, begin)
        finally:
            self.leave(conn)

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
