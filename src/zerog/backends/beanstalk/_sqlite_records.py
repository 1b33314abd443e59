"""The record store on SQLite (``store=sqlite:///...``): the SQLite backend's own file,
tables and transaction steps, plus the tables saying which beanstalkd entry is each job's.

Every job row is written by the SQLite backend's own steps (imported by
:mod:`._sqlite_steps` and :mod:`._sqlite_claim`, so that a record changes here exactly as it
does on ``sqlite://``); this package adds only the ``beanstalk_*`` tables
(``sql/schema.sql``) and runs each step in one ``BEGIN IMMEDIATE`` transaction of the SQLite
backend (:meth:`SqliteBackend.transact`, which also keeps its history cap) together with its
entry bookkeeping. While a step's :data:`~._records.Enter` callback talks to beanstalkd, the
transaction holds SQLite's write lock: a worker that reserved the new entry meanwhile waits
for the commit before it reads the record, so it never mistakes an entry for stale because it
came first.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from zerog.backends.base import Backend, Change, Lease, Retention, Settlement
from zerog.backends.beanstalk import _sqlite_steps as steps
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
from zerog.backends.beanstalk._sqlite_claim import claim_step
from zerog.backends.beanstalk._sqlite_entries import (
    BQ,
    READY,
    SCHEMA,
    delayed_by,
    info_of,
    set_entry,
)
from zerog.backends.beanstalk._sqlite_limits import queue_full, unpark
from zerog.backends.sqlite import SqliteBackend
from zerog.backends.sqlite._rows import Encoded
from zerog.backends.sqlite._sql import Conn, Q
from zerog.backends.sqlite._steps import encoded_of, rescue_step
from zerog.backends.sqlite._txn import Txn
from zerog.errors import ReservationLost
from zerog.record import Record
from zerog.states import State
from zerog.urls import parse_url


class SqliteRecords:
    """A :class:`~._records.RecordStore` in one SQLite file."""

    def __init__(self, url: str, clock: Callable[[], float] | None = None) -> None:
        parsed = parse_url(url)
        self._sqlite = SqliteBackend.from_url(parsed, clock=clock)
        self._db = self._sqlite._db
        self.clock = self._sqlite.clock
        try:
            self._db.run(
                lambda conn: conn.executescript(f"BEGIN IMMEDIATE;\n{SCHEMA}\nCOMMIT;"), None
            )
        except BaseException:
            self._sqlite.close()
            raise

    @property
    def backend(self) -> Backend:
        return self._sqlite

    def close(self) -> None:
        self._sqlite.close()

    # --- new jobs --------------------------------------------------------------------------

    def insert(self, records: Sequence[Record], enter: Enter) -> Inserted:
        return self._sqlite.transact(lambda txn: steps.insert(txn, records, enter))

    # --- delivered entries -------------------------------------------------------------------

    def claim(self, uuid: str, bid: int, worker: str) -> Claim:
        return self._sqlite.transact(lambda txn: claim_step(txn, uuid, bid, worker))

    def queue_full(self, queue: str) -> bool:
        return self._db.read(lambda conn: queue_full(conn, queue))

    # --- settling a run ----------------------------------------------------------------------

    def settle(self, lease: Lease, settlement: Settlement, enter: Enter) -> Settled:
        encoded = encoded_of(settlement)
        return self._sqlite.transact(
            lambda txn: steps.settle(txn, lease, settlement, encoded, enter)
        )

    def settle_and_claim(
        self,
        lease: Lease,
        settlement: Settlement,
        taken: tuple[str, int, str],
        queues: Sequence[str],
        enter: Enter,
    ) -> tuple[Settled, Claim]:
        """Both in one transaction: one commit per job for a busy worker, not two."""
        encoded = encoded_of(settlement)

        def both(txn: Txn) -> tuple[Settled, Claim]:
            settled = steps.settle(txn, lease, settlement, encoded, enter)
            return settled, _claim_unless_outranked(txn, taken, settled.ready, queues)

        return self._sqlite.transact(both)

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

        return self._sqlite.transact(batch)

    # --- rescue and operators ----------------------------------------------------------------

    def rescue(self, limit: int, enter: Enter) -> tuple[list[Moved], Effects]:
        if limit <= 0:
            return [], Effects()
        # Every worker calls this every few seconds: look first without taking the write lock.
        found = self._db.read(
            lambda conn: conn.execute(Q.any_to_rescue, {"now": self.clock()}).fetchone()
        )
        if found is None:
            return [], Effects()
        return self._sqlite.transact(lambda txn: _rescue(txn, limit, enter))

    def act(self, uuid: str, action: str, worker: str | None, enter: Enter) -> Moved:
        return self._sqlite.transact(lambda txn: steps.act(txn, uuid, action, worker, enter))

    def kick(self, queue: str, limit: int, enter: Enter) -> list[Moved]:
        params = {"queue": queue, "limit": max(0, limit)}
        moved, refused = self._sqlite.transact(
            lambda txn: steps.kick(txn, txn.conn.execute(Q.oldest_failed, params).fetchall(), enter)
        )
        if refused is not None:
            raise refused
        return moved

    def alter(self, uuid: str, change: Change, worker: str | None, enter: Enter) -> Altered:
        return self._sqlite.transact(lambda txn: steps.alter(txn, uuid, change, worker, enter))

    # --- flow ----------------------------------------------------------------------------------

    def spawn(self, queue: str, enter: Enter) -> tuple[dict[str, float], Effects]:
        return self._sqlite.transact(lambda txn: steps.spawn(txn, queue, enter))

    def recurrences_due(self) -> dict[str, float]:
        return dict(self._db.read(lambda conn: conn.execute(BQ.recurrences_due).fetchall()))

    def unpark(self) -> Effects:
        return Effects(kick=tuple(self._sqlite.transact(unpark)[0]))

    def prune(self, retention: Retention, limit: int) -> tuple[int, list[tuple[int, str]]]:
        return self._sqlite.transact(lambda txn: steps.prune(txn, retention, limit))

    # --- the reconciler's reads and repairs ------------------------------------------------

    def entry_of(self, uuid: str) -> tuple[State, int | None] | None:
        row = self._db.read(lambda conn: conn.execute(BQ.entry_row, (uuid,)).fetchone())
        return None if row is None else (State(row[2]), row[7])

    def replace_entry(self, uuid: str, bid: int | None, enter: Enter) -> int | None:
        return self._db.write(lambda conn: self._replace(conn, uuid, bid, enter))

    def _replace(self, conn: Conn, uuid: str, bid: int | None, enter: Enter) -> int | None:
        row = conn.execute(BQ.entry_row, (uuid,)).fetchone()
        if row is None or row[2] not in READY or row[7] != bid:
            return None
        delay = row[6] - self.clock()
        new_bid = enter(delayed_by(info_of(row), delay))
        set_entry(conn, row[0], new_bid, row[6], delay)
        return new_bid

    def ready_after(self, seq: int, limit: int) -> list[Ready]:
        now = self.clock()
        rows = self._db.read(
            lambda conn: conn.execute(BQ.ready_after, {"after": seq, "limit": limit}).fetchall()
        )
        return [Ready(row[0], delayed_by(info_of(row), row[6] - now)) for row in rows]

    def next_due(self) -> float | None:
        row = self._db.read(lambda conn: conn.execute(BQ.next_due).fetchone())
        return None if row is None else row[0]

    def take_due(self, limit: int) -> tuple[list[int], float | None]:
        now = self.clock()
        first = self.next_due()
        if first is None or first > now:
            return [], first
        return self._db.write(lambda conn: _take_due(conn, now, limit))

    def get_meta(self, key: str) -> str | None:
        row = self._db.read(lambda conn: conn.execute(BQ.get_meta, (key,)).fetchone())
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        self._db.write(lambda conn: conn.execute(BQ.set_meta, (key, value)))


# --- steps inside a transaction ----------------------------------------------------------------


def _priority(txn: Txn, uuid: str) -> int:
    """A job's (zerog) priority."""
    return int(txn.conn.execute(BQ.entry_row, (uuid,)).fetchone()[4])


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
    rows = conn.execute(BQ.due, {"now": now, "limit": limit}).fetchall()
    wall = time.time()
    for job, _bid, _until in rows:
        conn.execute(BQ.forget_delay, (job,))
    kick = [bid for _job, bid, until in rows if bid is not None and until and until > wall]
    (following,) = conn.execute(BQ.next_due).fetchone()
    return kick, following
