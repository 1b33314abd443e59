"""``sqlite://``: the embedded default, a complete backend that many processes on one machine
share through one file.

Each contract method is one SQLite transaction (``BEGIN IMMEDIATE`` for writes; see
:mod:`._db` for why no caller sees "database is locked"). What a step does to a record is not
written again here: the backend loads the few keys a step reads, applies the same
:mod:`zerog.lifecycle` function the memory backend applies, and writes back only the keys
that changed, patching the JSON document in place with ``json_set``. The steps are the shared
SQL engine's (:mod:`zerog.backends.sql.steps`); this module opens the file and gives each write
transaction its time and its history cap; :class:`~zerog.backends.sql.SqlBackend` runs each
step in its transaction (the PostgreSQL backend runs the same steps).
"""

from __future__ import annotations

import logging
import os
import threading
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from zerog.backends.contract import Capability, LocalWaiter, Waiter
from zerog.backends.sql import SqlBackend
from zerog.backends.sql.txn import Txn, cap_history
from zerog.backends.sqlite import _db as sqlite_db
from zerog.backends.sqlite import _open
from zerog.backends.sqlite._wake import Doorbell, SocketWaiter
from zerog.urls import BackendURL

log = logging.getLogger(__name__)

T = TypeVar("T")


class SqliteBackend(SqlBackend):
    """Jobs in one SQLite file in WAL mode; safe for many threads and processes at once."""

    capabilities = frozenset({Capability.MULTI_PROCESS})
    database: sqlite_db.Database

    def __init__(
        self,
        path: str | os.PathLike[str],
        clock: Callable[[], float] | None = None,
        *,
        synchronous: str = "normal",
        busy_timeout_seconds: float = _open.DEFAULT_BUSY_TIMEOUT_SECONDS,
        lock_wait_seconds: float = sqlite_db.LOCK_WAIT_SECONDS,
    ) -> None:
        super().__init__(clock)
        self.path = _open.checked_path(Path(path))
        self.database = sqlite_db.Database(
            sqlite_db.Options(
                path=self.path,
                synchronous=_open.synchronous_of(synchronous),
                busy_timeout_seconds=busy_timeout_seconds,
                lock_wait_seconds=lock_wait_seconds,
            )
        )
        self._capped = threading.local()  # this thread's connection and the cap it has.
        self._doorbell = Doorbell(Path(self.path))
        self._waiters: weakref.WeakSet[SocketWaiter] = weakref.WeakSet()
        try:
            _open.open_schema(self.database)
        except BaseException:
            self.database.close()
            raise

    @classmethod
    def from_url(
        cls,
        parsed: BackendURL,
        clock: Callable[[], float] | None = None,
    ) -> SqliteBackend:
        """``sqlite:///relative/path.db`` or ``sqlite:////absolute/path.db``, with options
        ``?synchronous=normal|full`` (default normal: in WAL mode a process crash loses
        nothing, a power cut may lose the last transactions) and ``?busy_timeout=<seconds>``
        (default 5: SQLite's own wait for the lock before zerog's retries)."""
        options = _open.options_of(parsed)
        return cls(
            options.path,
            clock,
            synchronous=options.synchronous,
            busy_timeout_seconds=options.busy_timeout_seconds,
        )

    def waiter(self) -> Waiter:
        """A socket beside the file that other processes ring (see :mod:`._wake`); closed
        with the backend. Where no socket can be bound there (a directory of another user,
        a read-only one), the workers poll: slower to start a job, never wrong."""
        try:
            waiter = SocketWaiter(Path(self.path))
        except OSError as exc:
            log.warning("no doorbell for %s (%s): idle workers poll instead", self.path, exc)
            return LocalWaiter()
        self._waiters.add(waiter)
        return waiter

    def ring(self) -> None:
        self._doorbell.ring()

    def close(self) -> None:
        for waiter in list(self._waiters):
            waiter.close()
        self._doorbell.close()
        super().close()

    @property
    def busy_retries(self) -> int:
        """How many transactions were run again because another connection held the lock."""
        return self.database.busy_retries

    def transact(self, body: Callable[[Txn], T]) -> T:
        """Run ``body`` in a write transaction, with this backend's history cap in force on
        the connection (see txn.cap_history; installed outside the transaction, and again
        only when :attr:`history_limit` changed). The beanstalk record store runs its steps
        through this too."""
        database = self.database
        conn = database.connection()
        capped = self._capped
        if getattr(capped, "conn", None) is not conn or capped.keep != self.history_limit:
            keep = self.history_limit
            database.run(lambda c: cap_history(c, keep), None)
            capped.conn, capped.keep = conn, keep
        return database.write(lambda c: body(Txn(c, self.clock())))
