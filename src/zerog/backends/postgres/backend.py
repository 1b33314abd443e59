"""``postgresql://``: jobs in one schema of a PostgreSQL database, shared by worker processes
on any number of hosts.

The job logic is the shared SQL engine's, not written again: :class:`SqlBackend` runs the
same steps as on SQLite (:mod:`zerog.backends.sql.steps`), which take PostgreSQL's statements
from the connection (``sql/queries.sql`` names them as SQLite's are named). This module opens
the schema and gives each write transaction its time (see :mod:`._db` for the row and key
locks that make the steps' one-writer reasoning hold with writers at once, and for why times
come from the server's clock).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from zerog.backends.contract import Capability, LocalWaiter, Waiter
from zerog.backends.postgres import _migrate, _open
from zerog.backends.postgres._db import Database, Options
from zerog.backends.postgres._listen import ListenWaiter
from zerog.backends.postgres._vacuum import Vacuum
from zerog.backends.sql import SqlBackend
from zerog.backends.sql.txn import Txn
from zerog.urls import BackendURL, parse_url

T = TypeVar("T")


class PostgresBackend(SqlBackend):
    """Jobs in PostgreSQL; safe for many threads, processes and hosts at once."""

    capabilities = frozenset({Capability.MULTI_PROCESS})
    database: Database

    def __init__(self, options: Options, clock: Callable[[], float] | None = None) -> None:
        database = Database(options)
        super().__init__(clock or database.server_time)
        self.database = database
        self._server_clock = clock is None
        self._serialized = False  # see serialize_writes (the beanstalk record store's).
        self._waiters: list[ListenWaiter] = []  # closed with the backend (sockets, a session).
        self.vacuum = Vacuum(
            lambda: database.connect_plain(application_name="zerog maintenance"), options.schema
        )
        try:
            _open.open_schema(database)
            if self._server_clock:
                database.measure_offset()
        except BaseException:
            database.close()
            raise

    @classmethod
    def from_url(
        cls, parsed: BackendURL | str, clock: Callable[[], float] | None = None
    ) -> PostgresBackend:
        """``postgresql://user[:password]@host[:port]/database`` with options ``?schema=<name>``
        (default ``zerog``; created with its tables if missing), ``?connect_timeout=<seconds>``
        (default 10), ``?listen=off`` (idle workers poll instead of LISTENing for NOTIFYs: behind
        PgBouncer in transaction mode, which passes no notification), ``?pool=<N>`` (the
        process's calls share a pool of N connections instead of one per thread; ``zerog
        serve`` asks for one); any other option is a
        libpq connection parameter (``sslmode=require``)."""
        if isinstance(parsed, str):
            parsed = parse_url(parsed)
        return cls(_open.options_of(parsed), clock)

    def waiter(self) -> Waiter:
        """A LISTEN connection of its own that the schema's NOTIFYs wake (see :mod:`._listen`),
        closed with the backend; with ``?listen=off`` one that only this process wakes."""
        if not self.database.options.listen:
            return LocalWaiter()
        waiter = ListenWaiter(self.database.connect_plain, self.schema)
        self._waiters.append(waiter)
        return waiter

    def rescue_expired(self, limit: int = 100) -> list[str]:
        """As every SQL backend does; then, at most every few seconds, vacuum the jobs table
        if it holds many dead row versions (see :mod:`._vacuum`): every worker calls this
        from its heartbeat."""
        moved = super().rescue_expired(limit)
        self.vacuum.maybe()
        return moved

    def close(self) -> None:
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            waiter.close()
        super().close()

    @property
    def schema(self) -> str:
        """The schema holding this store's tables."""
        return self.database.options.schema

    @property
    def retries(self) -> int:
        """How many transactions were run again after a transient failure."""
        return self.database.retries

    def transact(self, body: Callable[[Txn], T]) -> T:
        """Run ``body`` in a write transaction at the server's time (the fake clock's in
        tests), with the history cap in force; under the schema's lock once
        :meth:`serialize_writes` was called."""
        keep, serialize = self.history_limit, self._serialized
        if self._server_clock:
            return self.database.write(lambda conn: body(Txn(conn, conn.now)), keep, serialize)
        return self.database.write(lambda conn: body(Txn(conn, self.clock())), keep, serialize)

    def serialize_writes(self) -> None:
        """From now on, every write transaction of this backend takes the schema's lock."""
        self._serialized = True


def migrate_url(parsed: BackendURL | str) -> _migrate.Migrated:
    """Create the schema a ``postgresql://`` URL names, or bring it to this zerog's version
    (``zerog migrate``: run it as a role that may change the schema, the application's role
    then needs none of that right). What it found and what it left."""
    if isinstance(parsed, str):
        parsed = parse_url(parsed)
    database = Database(_open.options_of(parsed))
    try:
        database.connection()  # an unreachable server fails here, at once.
        if _migrate.current(database) is not None:  # tables zerog did not make stay as found.
            _open.check_columns(database)
        return _migrate.migrate(database)
    finally:
        database.close()


def schema_version(parsed: BackendURL | str) -> int | None:
    """The zerog schema version of the schema a URL names (None: no zerog tables); a read."""
    if isinstance(parsed, str):
        parsed = parse_url(parsed)
    database = Database(_open.options_of(parsed))
    try:
        return _migrate.current(database)
    finally:
        database.close()
