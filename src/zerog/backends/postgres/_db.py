"""PostgreSQL connections and transactions: one connection per thread and process, writers
at once, and retries that no caller sees.

Write transactions run at once (READ COMMITTED); none takes a lock for the whole schema. The
shared steps were written for SQLite's single writer: they read, decide in Python, then write.
On PostgreSQL each decision is made under a lock of what it decides on, taken by the statement
that reads it (``sql/queries.sql``) or by one just before (``lock_key``), so the statements
after it see what the lock's previous holder committed:

- a job: every step that changes a job first reads it ``FOR UPDATE`` (a settlement by its
  lease token, an operator action, a rescue, a dependent released or told), and claims read
  ready jobs ``FOR UPDATE SKIP LOCKED``, several per statement; a row found changed once
  locked is re-read (and dropped when it no longer matches). Its history (numbered max + 1)
  is written under that lock.
- dependencies: a put or a pipeline step locks the jobs it waits for, and a completion locks
  the jobs that wait for it, so a dependent is linked before its dependency completes or sees
  it complete, and two dependencies completing at once release it once.
- a unique key, a debounce key, a day's statistics: an advisory lock keyed by it.
- the limits: one advisory lock taken by the claims that count running jobs against them
  (only when some limit is set; the common claim takes none).
- a recurrence: the claim that spawns its jobs locks it (``SKIP LOCKED``), so one spawns each.

Creating and migrating the schema, and the beanstalk record store's steps (written for one
writer), still take the schema's advisory lock (``serialize``). Deadlocks and serialization
failures are retried like lost connections. Reads take no lock: each statement sees a committed
state (MVCC), a snapshot read sees one. A write transaction costs a round trip per statement
whose result it reads, plus two: the first begins, reads the server's clock and sets the
history cap, in one simple-protocol message; the last commits. The writes whose result it does
not read ride along (``PgConn.defer``, merged by ``_batched``): a worker's batch of N
completions and N claims is 4 round trips.

Times come from the server, not the worker: with several worker hosts, one whose clock is off
would otherwise expire its peers' leases early or hold its own too long. The write
transaction's time is the server's ``clock_timestamp()`` read as it begins; between
transactions :meth:`Database.server_time` is the local clock plus the offset last measured,
which costs no round trip (progress samples and event times use it).

Transient failures (a lost connection, a deadlock, a serialization failure) roll back and run
the whole body again, on a fresh connection if need be, for up to ``retry_seconds``; then
:class:`~zerog.errors.BackendUnavailable` says what failed. Bodies must therefore have no effect
outside the database. A connection lost during COMMIT is not retried: the commit may have
happened, so running the body again could apply it twice; the caller gets BackendUnavailable.

A connection never crosses a ``fork()``: a child that finds its parent's connections opens its
own and keeps the parent's referenced, never used and never closed (closing one would end the
parent's session on the shared socket).
"""

from __future__ import annotations

import contextlib
import random
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import psycopg
import psycopg.errors
from psycopg.types.string import TextLoader

from zerog.backends.postgres._batched import coalesced
from zerog.backends.postgres._pool import Pool
from zerog.backends.postgres._sql import DIALECT, PQ
from zerog.backends.sql.connections import ThreadConnections
from zerog.backends.sql.statements import Queries
from zerog.errors import BackendError, BackendUnavailable

T = TypeVar("T")

RETRY_SECONDS = 10.0  # transient failures are retried this long, then BackendUnavailable.
FIRST_PAUSE_SECONDS = 0.02
PAUSE_CAP_SECONDS = 1.0
LOCK_WAIT_SECONDS = 60  # lock_timeout: a writer waits this long for a lock, then gives up.
# A transaction left open this long (its process stopped or hung) is ended by the server, so a
# SIGSTOPped worker cannot hold its locks, and the writers waiting on them, for ever.
IDLE_IN_TRANSACTION_SECONDS = 30
_TRANSIENT = (psycopg.errors.SerializationFailure, psycopg.errors.DeadlockDetected)


@dataclass(frozen=True)
class Options:
    """How connections are opened: libpq's parameters, the schema, the lock's key."""

    conninfo: dict[str, Any]
    schema: str
    lock_key: int
    where: str  # the URL without its password, for messages.
    connect_timeout: int = 10
    listen: bool = True  # idle workers LISTEN for wake-ups (off behind PgBouncer's pooling).
    pool: int = 0  # > 0: calls borrow from a shared pool of this many (see _pool.py).
    retry_seconds: float = RETRY_SECONDS
    settings: dict[str, str] = field(default_factory=dict)


class PgConn:
    """A psycopg connection with the surface the shared steps use (see
    :class:`zerog.backends.sql.statements.Conn`): ``execute`` returns psycopg's cursor, which
    fetches and iterates as sqlite3's does.

    Writes whose result nobody reads (a job's changed keys, a history entry, a claim's
    UPDATE) are deferred (:meth:`defer`) and sent together, in pipeline mode, just before the
    next statement that reads, or with the COMMIT: one round trip for all of them instead of
    one each. The order of statements on the server is unchanged; an error in a deferred write
    is raised by the statement that sends it, and fails the transaction as it would have."""

    __slots__ = ("now", "pending", "raw")
    q: Queries = PQ
    IntegrityError: type[Exception] = psycopg.errors.IntegrityError

    def __init__(self, raw: psycopg.Connection[Any]) -> None:
        self.raw = raw
        self.now = 0.0  # the server's time, read when the current write transaction began.
        self.pending: list[tuple[str, Any]] = []  # deferred writes, in order.

    def execute(self, sql: str, parameters: Any = None, /) -> psycopg.Cursor[Any]:
        if self.pending:
            if parameters is not None:  # one statement: it can go in the pipeline.
                return self.flush(sql, parameters)
            self.flush()  # it may be a script of several, which a pipeline refuses.
        return self.raw.execute(sql, parameters)

    def executemany(self, sql: str, parameters: Iterable[Any], /) -> None:
        rows = list(parameters)
        if self.pending:
            self.flush()
        if rows:
            with self.raw.cursor() as cursor:
                cursor.executemany(sql, rows)

    def defer(self, sql: str, parameters: Any = None, /) -> None:
        """Run a write whose result is not read, with the next statement that is sent."""
        self.pending.append((sql, parameters))

    def flush(self, then: str | None = None, parameters: Any = None) -> psycopg.Cursor[Any]:
        """Send the deferred writes, and then ``then`` (the statement that made them go, or
        COMMIT), in one pipeline: one round trip. Returns ``then``'s cursor, its result read."""
        pending = coalesced(self.pending)
        self.pending = []
        if then is not None:
            pending.append((then, parameters))
        if len(pending) == 1:
            return self.raw.execute(*pending[0])
        with self.raw.pipeline():
            for sql, values in pending:
                cursor = self.raw.execute(sql, values)
        return cursor

    def commit(self) -> None:
        """COMMIT, with the deferred writes before it in the same round trip."""
        self.flush("COMMIT")


class Database(ThreadConnections[PgConn]):
    """The connections of one backend to one schema of one PostgreSQL database: the
    PostgreSQL dialect's :class:`zerog.backends.sql.Database`."""

    dialect = DIALECT

    def __init__(self, options: Options) -> None:
        super().__init__()
        self.options = options
        self.offset = 0.0  # the server's clock minus this host's, as last measured.
        self.retries = 0  # transactions run again after a transient failure (diagnostic).
        self._pool: Pool[PgConn] | None = None
        self._pool_lock = threading.Lock()

    def _connect(self) -> PgConn:
        return PgConn(self._connect_raw())

    # --- the shared pool (options.pool > 0; see _pool.py) ------------------------------------

    def connection(self) -> PgConn:
        if not self.options.pool:
            return super().connection()
        conn = self.enter()  # the pool opens with a connection: an unreachable server fails.
        self.leave(conn)
        return conn

    def enter(self) -> PgConn:
        if not self.options.pool:
            return super().enter()
        if self._closed:
            raise self._closed_error()
        return self._pool_of().borrow()

    def leave(self, conn: PgConn) -> None:
        if self._pool is None:
            super().leave(conn)
        else:
            self._pool.give_back()

    def forget(self, conn: PgConn) -> None:
        if self._pool is None:
            super().forget(conn)
        else:  # the pool drops a closed connection when it is given back.
            self._close_one(conn)

    def _pool_of(self) -> Pool[PgConn]:
        with self._pool_lock:
            if self._closed:
                raise self._closed_error()
            if self._pool is None:
                kwargs = {**self.options.conninfo, "autocommit": True}
                kwargs["connect_timeout"] = self.options.connect_timeout
                self._pool = Pool(
                    self.options.pool, kwargs, self._configure, PgConn, self.options.where
                )
            return self._pool

    def _connect_raw(self) -> psycopg.Connection[Any]:
        raw = self.connect_plain()
        self._configure(raw)
        return raw

    def _configure(self, raw: psycopg.Connection[Any]) -> None:
        """Make a new connection the engine's: JSON read as text, the schema, the timeouts."""
        options = self.options
        # jsonb arrives as JSON text, as SQLite's documents do: the shared steps parse it.
        raw.adapters.register_loader("jsonb", TextLoader)
        raw.adapters.register_loader("json", TextLoader)
        settings = {
            "search_path": f'"{options.schema}"',
            "lock_timeout": f"'{LOCK_WAIT_SECONDS}s'",
            "idle_in_transaction_session_timeout": f"'{IDLE_IN_TRANSACTION_SECONDS}s'",
            **options.settings,
        }
        try:
            raw.execute("; ".join(f"SET {name} = {value}" for name, value in settings.items()))
        except psycopg.Error:
            raw.close()
            raise

    def connect_plain(self, **conninfo: Any) -> psycopg.Connection[Any]:
        """A new autocommit connection with libpq's defaults (the listener's, see _listen.py),
        ``conninfo`` over the URL's; BackendUnavailable, saying what to check, when the
        server cannot be reached."""
        options = self.options
        try:
            return psycopg.connect(
                autocommit=True,  # we write BEGIN / COMMIT ourselves, BEGIN with the lock.
                connect_timeout=options.connect_timeout,
                **{**options.conninfo, **conninfo},
            )
        except psycopg.Error as exc:
            raise BackendUnavailable(
                f"cannot connect to PostgreSQL at {options.where}: {str(exc).strip()}; is the "
                f"server running and the URL right (postgresql://user@host:port/database)?"
            ) from exc

    def _close_one(self, conn: PgConn) -> None:
        with contextlib.suppress(psycopg.Error):
            conn.raw.close()

    def _closed_error(self) -> BackendUnavailable:
        return BackendUnavailable(f"the PostgreSQL store {self.options.where} is closed")

    def close(self) -> None:
        """Close every connection (see ThreadConnections.close_connections), and the pool."""
        self.close_connections()
        with self._pool_lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.close()

    # --- time --------------------------------------------------------------------------------

    def server_time(self) -> float:
        """The server's clock, as this host's clock plus the offset last measured."""
        return time.time() + self.offset

    def measure_offset(self) -> None:
        """Read the server's clock once (at open)."""
        row = self.read(lambda conn: conn.execute(SERVER_TIME).fetchone())
        now = float(row[0]) if row else time.time()
        self.offset = now - time.time()

    # --- transactions ------------------------------------------------------------------------

    def write(
        self, body: Callable[[PgConn], T], keep: int | None = None, serialize: bool = False
    ) -> T:
        """Run ``body`` in a write transaction; ``conn.now`` is the server's time then.
        ``keep``: the history cap (entries per job) in force. ``serialize``: under the
        schema's lock, one such transaction at a time (creating and migrating the schema, the
        beanstalk record store); other writes lock the rows and keys they decide on."""
        cap = "" if keep is None else str(int(keep))
        lock = f"pg_advisory_xact_lock({self.options.lock_key}), " if serialize else "0, "
        begin = (
            f"BEGIN; SELECT {lock}{SERVER_TIME_EXPR}, "
            f"set_config('zerog.history_keep', '{cap}', true)"
        )
        return self._run(body, begin)

    def run_script(self, script: str) -> None:
        """Run ``script`` (statements separated by ``;``, no parameters) in one write
        transaction under the schema's lock."""
        self.write(lambda conn: conn.execute(script), serialize=True)

    def read(self, body: Callable[[PgConn], T], snapshot: bool = False) -> T:
        """Run ``body`` as reads; with ``snapshot`` all of them see one state."""
        return self._run(body, SNAPSHOT if snapshot else None)

    def _run(self, body: Callable[[PgConn], T], begin: str | None) -> T:
        deadline = time.monotonic() + self.options.retry_seconds
        pause = FIRST_PAUSE_SECONDS
        while True:
            try:
                conn = self.enter()
            except BackendUnavailable:
                if self._closed or time.monotonic() >= deadline:
                    raise
                time.sleep(pause)
                pause = min(PAUSE_CAP_SECONDS, pause * 2)
                continue
            committing = False
            try:
                if begin is None:
                    return body(conn)
                self._begin(conn, begin)
                result = body(conn)
                committing = True
                conn.commit()
                return result
            except psycopg.Error as exc:
                if not self._retryable(conn, exc, committing):
                    raise self._failed(exc, committing) from exc
                left = deadline - time.monotonic()
                if left <= 0:
                    raise self._gave_up(exc) from exc
                self.retries += 1
                time.sleep(min(left, pause * random.uniform(0.5, 1.5)))
                pause = min(PAUSE_CAP_SECONDS, pause * 2)
            except BaseException:
                self._rollback(conn)
                raise
            finally:
                self.leave(conn)

    def _begin(self, conn: PgConn, begin: str) -> None:
        conn.pending = []  # a previous transaction's, if it failed before sending them.
        cursor = conn.raw.execute(begin)
        if cursor.nextset():  # BEGIN's result first, then the lock's and the clock's row.
            row = cursor.fetchone()
            assert row is not None
            conn.now = float(row[1])
            self.offset = conn.now - time.time()

    def _retryable(self, conn: PgConn, exc: psycopg.Error, committing: bool) -> bool:
        """Roll back (or drop a broken connection); whether running the body again is safe."""
        if conn.raw.broken or conn.raw.closed:
            self.forget(conn)
            return not committing and isinstance(exc, psycopg.OperationalError)
        self._rollback(conn)
        return isinstance(exc, _TRANSIENT)

    def _rollback(self, conn: PgConn) -> None:
        conn.pending = []
        if conn.raw.broken or conn.raw.closed:
            self.forget(conn)
            return
        if conn.raw.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            try:
                conn.raw.execute("ROLLBACK")
            except psycopg.Error:
                self.forget(conn)

    def _failed(self, exc: psycopg.Error, committing: bool) -> BackendError:
        where = self.options.where
        if committing:
            return BackendUnavailable(
                f"the connection to PostgreSQL at {where} was lost while committing; the last "
                f"change may or may not have been stored: {str(exc).strip()}"
            )
        if isinstance(exc, psycopg.errors.LockNotAvailable):
            return BackendUnavailable(
                f"a zerog lock in schema {self.options.schema!r} at {where} stayed taken for "
                f"{LOCK_WAIT_SECONDS} s; is a process holding a transaction open?"
            )
        if isinstance(exc, psycopg.OperationalError):
            return BackendUnavailable(f"PostgreSQL at {where} failed: {str(exc).strip()}")
        return BackendError(f"PostgreSQL error at {where}: {str(exc).strip()}")

    def _gave_up(self, exc: psycopg.Error) -> BackendUnavailable:
        return BackendUnavailable(
            f"PostgreSQL at {self.options.where} kept failing for "
            f"{self.options.retry_seconds:g} s ({str(exc).strip()}); is the server up?"
        )


SERVER_TIME_EXPR = "extract(epoch FROM clock_timestamp())::float8"
SERVER_TIME = f"SELECT {SERVER_TIME_EXPR}"
SNAPSHOT = "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY"
