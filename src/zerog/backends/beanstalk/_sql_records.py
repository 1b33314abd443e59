"""The record store in SQL (``store=sqlite:///...``, ``store=postgresql://...``): the job store
of the SQLite or the PostgreSQL backend, its tables and its transaction steps, plus the tables
saying which beanstalkd entry is each job's.

Every job row is written by the shared SQL engine's steps (:mod:`zerog.backends.sql.steps`,
run by :mod:`._sql_steps` and :mod:`._sql_claim`, so that a record changes here exactly as it
does on ``sqlite://`` and ``postgresql://``); this package adds only the ``beanstalk_*`` tables
(``sql/<dialect>/schema.sql``) and runs each step in one write transaction of the backend
(:meth:`SqlBackend.transact`, which gives it its time and keeps the history cap) together with
its entry bookkeeping. What else it needs of the backend is the dialect hook
(:class:`zerog.backends.sql.Database`: reads, writes, scripts, the dialect's name), never the
backend's class: the dialects' statements have the same names and each step takes its
dialect's from the connection (``conn.q``, :func:`._sql_entries.bq`), so one class serves both.

**One writer while beanstalkd is told.** While a step's :data:`~._records.Enter` callback talks
to beanstalkd, the transaction holds the store's write lock: SQLite's (``BEGIN IMMEDIATE``),
or PostgreSQL's advisory lock of the schema, which every write transaction takes as its first
statement and which is released only once its commit is visible. A worker that reserved the
new entry meanwhile claims it in a write transaction of its own, so it waits for the commit,
then reads the record as committed (on PostgreSQL each statement after the lock sees every
commit made before it: READ COMMITTED); it never mistakes an entry for stale because it came
first.

**A step run again.** The PostgreSQL backend runs a transaction's body again after a transient
failure (a lost connection, a deadlock), and the step's Enter calls run again with it: as a
crash before the commit and the step done again, the entries the first run put are named by no
record (stale on delivery, deleted), and an entry it kicked or released is found deliverable
and kept. PostgreSQL ends a session left idle in a transaction for 30 s
(``IDLE_IN_TRANSACTION_SECONDS``), which a step may reach when beanstalkd stops answering (a
command waits up to ``COMMAND_TIMEOUT_SECONDS``): the connection is then lost past the
backend's time for reruns, and the step fails (BackendUnavailable) with nothing stored.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from zerog.backends import open_backend
from zerog.backends.beanstalk import _sql_steps as steps
from zerog.backends.beanstalk._records import (
    Altered,
    Claim,
    Effects,
    Enter,
    Inserted,
    Moved,
    Rank,
    Ready,
    Settled,
    SettledBatch,
    Verdict,
)
from zerog.backends.beanstalk._sql_claim import claim_step
from zerog.backends.beanstalk._sql_entries import (
    READY,
    SCHEMAS,
    bq,
    delayed_by,
    info_of,
    set_entry,
)
from zerog.backends.beanstalk._sql_limits import queue_full, unpark
from zerog.backends.contract import FullBackend
from zerog.backends.sql import SqlBackend
from zerog.backends.sql.rows import Encoded
from zerog.backends.sql.statements import Conn
from zerog.backends.sql.steps.settle import encoded_of, rescue_step
from zerog.backends.sql.txn import Txn
from zerog.errors import ConfigurationError, ReservationLost
from zerog.model import Change, Lease, Record, Retention, Settlement, State

TABLES_KEY = "beanstalk_tables"  # PostgreSQL: the key in `meta` saying the tables are made.


def open_sql_records(url: str, clock: Callable[[], float] | None = None) -> SqlRecords:
    """The record store a ``sqlite://`` or ``postgresql://`` URL names (opened as that
    backend would be), with the ``beanstalk_*`` tables made if missing."""
    backend = open_backend(url, clock)
    if not isinstance(backend, SqlBackend) or backend.database.dialect not in SCHEMAS:
        backend.close()
        raise ConfigurationError(f"{url!r} is no SQL job store the beanstalk backend knows")
    backend.serialize_writes()  # its steps were written for one writer at a time.
    try:
        make_tables(backend)
    except BaseException:
        backend.close()
        raise
    return SqlRecords(backend)


def make_tables(backend: SqlBackend) -> None:
    """Make the ``beanstalk_*`` tables of the backend's dialect, one process at a time
    (:meth:`~zerog.backends.sql.Database.run_script`; every statement is idempotent, so
    processes opening a fresh store at once make them once), unless ``meta`` says they are
    made. Only PostgreSQL's script says so (its last statement): it replaces a trigger on
    ``jobs``, not worth doing at every open. SQLite's, all ``IF NOT EXISTS``, runs at every
    open, as it always has."""
    database = backend.database
    if database.read(_tables_made) is None:
        database.run_script(SCHEMAS[database.dialect])


def _tables_made(conn: Conn) -> str | None:
    row = conn.execute(f"SELECT value FROM meta WHERE key = '{TABLES_KEY}'").fetchone()
    return None if row is None else str(row[0])


class SqlRecords:
    """A :class:`~._records.RecordStore` in the job store of a SQL backend (SQLite or
    PostgreSQL)."""

    def __init__(self, backend: SqlBackend) -> None:
        self._sql = backend
        self._db = backend.database
        self.clock = backend.clock

    @property
    def backend(self) -> FullBackend:
        return self._sql

    def close(self) -> None:
        self._sql.close()

    # --- new jobs --------------------------------------------------------------------------

    def insert(self, records: Sequence[Record], enter: Enter) -> Inserted:
        return self._sql.transact(lambda txn: steps.insert(txn, records, enter))

    # --- delivered entries -------------------------------------------------------------------

    def claim(self, uuid: str, bid: int, worker: str) -> Claim:
        return self._sql.transact(lambda txn: claim_step(txn, uuid, bid, worker))

    def queue_full(self, queue: str) -> bool:
        return self._db.read(lambda conn: queue_full(conn, queue))

    # --- settling a run ----------------------------------------------------------------------

    def settle_batch(
        self,
        finished: Sequence[tuple[Lease, Settlement]],
        taken: Sequence[tuple[str, int, str]],
        queues: Sequence[str],
        enter: Enter,
    ) -> SettledBatch:
        """All of it in one transaction: one commit per batch for a busy worker."""
        encoded = [encoded_of(settlement) for _lease, settlement in finished]

        def batch(txn: Txn) -> SettledBatch:
            settled = [
                _settled_or_lost(txn, lease, settlement, json_of, enter)
                for (lease, settlement), json_of in zip(finished, encoded, strict=True)
            ]
            ready = [rank for item in settled if item is not None for rank in item.ready]
            claims = [_claim_unless_outranked(txn, item, ready, queues) for item in taken]
            return SettledBatch(settled, claims)

        return self._sql.transact(batch)

    # --- rescue and operators ----------------------------------------------------------------

    def rescue(self, limit: int, enter: Enter) -> tuple[list[Moved], Effects]:
        if limit <= 0:
            return [], Effects()
        # Every worker calls this every few seconds: look first without taking the write lock.
        found = self._db.read(
            lambda conn: conn.execute(conn.q.any_to_rescue, {"now": self.clock()}).fetchone()
        )
        if found is None:
            return [], Effects()
        return self._sql.transact(lambda txn: _rescue(txn, limit, enter))

    def act(self, uuid: str, action: str, worker: str | None, enter: Enter) -> Moved:
        return self._sql.transact(lambda txn: steps.act(txn, uuid, action, worker, enter))

    def kick(self, queue: str, limit: int, enter: Enter) -> list[Moved]:
        params = {"queue": queue, "limit": max(0, limit)}
        moved, refused = self._sql.transact(
            lambda txn: steps.kick(
                txn, txn.conn.execute(txn.q.oldest_failed, params).fetchall(), enter
            )
        )
        if refused is not None:
            raise refused
        return moved

    def alter(self, uuid: str, change: Change, worker: str | None, enter: Enter) -> Altered:
        return self._sql.transact(lambda txn: steps.alter(txn, uuid, change, worker, enter))

    # --- flow ----------------------------------------------------------------------------------

    def spawn(self, queue: str, enter: Enter) -> tuple[dict[str, float], Effects]:
        return self._sql.transact(lambda txn: steps.spawn(txn, queue, enter))

    def recurrences_due(self) -> dict[str, float]:
        return dict(self._db.read(lambda conn: conn.execute(bq(conn).recurrences_due).fetchall()))

    def unpark(self) -> Effects:
        return Effects(kick=tuple(self._sql.transact(unpark)[0]))

    def prune(self, retention: Retention, limit: int) -> tuple[int, list[tuple[int, str]]]:
        return self._sql.transact(lambda txn: steps.prune(txn, retention, limit))

    def delete(self, uuid: str) -> tuple[bool, list[tuple[int, str]]]:
        return self._sql.transact(lambda txn: steps.delete(txn, uuid))

    # --- the reconciler's reads and repairs ------------------------------------------------

    def entry_of(self, uuid: str) -> tuple[State, int | None] | None:
        row = self._db.read(lambda conn: conn.execute(bq(conn).entry_row, (uuid,)).fetchone())
        return None if row is None else (State(row[2]), row[7])

    def replace_entry(self, uuid: str, bid: int | None, enter: Enter) -> int | None:
        return self._db.write(lambda conn: self._replace(conn, uuid, bid, enter))

    def _replace(self, conn: Conn, uuid: str, bid: int | None, enter: Enter) -> int | None:
        row = conn.execute(bq(conn).entry_row, (uuid,)).fetchone()
        if row is None or row[2] not in READY or row[7] != bid:
            return None
        delay = row[6] - self.clock()
        new_bid = enter(delayed_by(info_of(row), delay))
        set_entry(conn, row[0], new_bid, row[6], delay)
        return new_bid

    def ready_after(self, seq: int, limit: int) -> list[Ready]:
        now = self.clock()
        params = {"after": seq, "limit": limit}
        rows = self._db.read(lambda conn: conn.execute(bq(conn).ready_after, params).fetchall())
        return [Ready(row[0], delayed_by(info_of(row), row[6] - now)) for row in rows]

    def next_due(self) -> float | None:
        row = self._db.read(lambda conn: conn.execute(bq(conn).next_due).fetchone())
        return None if row is None else row[0]

    def take_due(self, limit: int) -> tuple[list[int], float | None]:
        now = self.clock()
        first = self.next_due()
        if first is None or first > now:
            return [], first
        return self._db.write(lambda conn: _take_due(conn, now, limit))

    def get_meta(self, key: str) -> str | None:
        row = self._db.read(lambda conn: conn.execute(bq(conn).get_meta, (key,)).fetchone())
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        self._db.write(lambda conn: conn.execute(bq(conn).set_meta, (key, value)))


# --- steps inside a transaction ----------------------------------------------------------------


def _priority(txn: Txn, uuid: str) -> int:
    """A job's (zerog) priority."""
    return int(txn.conn.execute(bq(txn.conn).entry_row, (uuid,)).fetchone()[4])


def _settled_or_lost(
    txn: Txn, lease: Lease, settlement: Settlement, encoded: Encoded, enter: Enter
) -> Settled | None:
    """One settlement of a batch; None when its lease was lost. Nothing was written then:
    the lease check is the settle step's first statement, and a batch's settlements have no
    dependencies to check after it."""
    try:
        return steps.settle(txn, lease, settlement, encoded, enter)
    except ReservationLost:
        return None


def _claim_unless_outranked(
    txn: Txn, taken: tuple[str, int, str], ready: Sequence[Rank], queues: Sequence[str]
) -> Claim:
    """The claim of an entry reserved before the settlements that made ``ready`` ready."""
    if steps.outranked(txn, ready, taken[0], queues):
        return Claim(Verdict.OUTRANKED, priority=_priority(txn, taken[0]))
    return claim_step(txn, *taken)


def _rescue(txn: Txn, limit: int, enter: Enter) -> tuple[list[Moved], Effects]:
    """Backend.rescue_expired: each job moved gets its entry (or keeps its old id for the
    caller to dispose of); the parked jobs the ended runs made room for are kicked."""
    moved = [
        steps.after_move(txn, seq, State(state), enter)
        for seq, _uuid, state in rescue_step(txn, limit)
    ]
    return moved, Effects(kick=tuple(unpark(txn)[0]))


def _take_due(conn: Conn, now: float, limit: int) -> tuple[list[int], float | None]:
    rows = conn.execute(bq(conn).due, {"now": now, "limit": limit}).fetchall()
    wall = time.time()
    for job, _bid, _until in rows:
        conn.execute(bq(conn).forget_delay, (job,))
    kick = [bid for _job, bid, until in rows if bid is not None and until and until > wall]
    (following,) = conn.execute(bq(conn).next_due).fetchone()
    return kick, following
