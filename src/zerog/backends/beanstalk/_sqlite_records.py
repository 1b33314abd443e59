"""The record store on SQLite (``store=sqlite:///...``): the SQLite backend's own file,
tables and transaction steps, plus one table saying which beanstalkd entry is each job's.

Every job row is written by the SQLite backend's own steps (its private helpers, imported
below, so that a record changes here exactly as it does on ``sqlite://``); this module adds
only the ``beanstalk_entries`` and ``beanstalk_meta`` tables (``sql/schema.sql``) and runs
each step in one ``BEGIN IMMEDIATE`` transaction together with its entry bookkeeping. While
a step's :data:`~._records.Enter` callback talks to beanstalkd, the transaction holds
SQLite's write lock: a worker that reserved the new entry meanwhile waits for the commit
before it reads the record, so it never mistakes an entry for stale because it came first.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from importlib import resources
from typing import Any

from zerog.backends import _common
from zerog.backends.base import Backend, Lease, Settlement
from zerog.backends.beanstalk._records import (
    Claim,
    Enter,
    EntryInfo,
    Moved,
    Ready,
    Settled,
    Verdict,
)
from zerog.backends.beanstalk._wire import whole_seconds
from zerog.backends.sqlite import SqliteBackend
from zerog.backends.sqlite._rows import Encoded, columns_of, record_of
from zerog.backends.sqlite._sql import Q, parse_named
from zerog.backends.sqlite.backend import (
    _expire,
    _insert,
    _log,
    _move,
    _write,
    rescue_rows,
    settle_row,
)
from zerog.errors import JobNotFound
from zerog.record import Record
from zerog.states import State
from zerog.urls import parse_url

RUNNING = State.RUNNING.value
READY = (State.WAITING.value, State.SCHEDULED.value)
BURIED = (State.FAILED.value, State.PAUSED.value)


@dataclass(frozen=True)
class _Queries:
    claim_row: str
    entry_row: str
    entry_row_by_seq: str
    ready_after: str
    set_entry: str
    seq_of: str
    next_due: str
    due: str
    forget_delay: str
    get_meta: str
    set_meta: str


def _load() -> tuple[str, _Queries]:
    folder = resources.files(__package__).joinpath("sql")
    named = parse_named(folder.joinpath("queries.sql").read_text(encoding="utf-8"))
    expected = {f.name for f in fields(_Queries)}
    if set(named) != expected:
        raise RuntimeError(f"beanstalk sql/queries.sql names {sorted(named)}, not {expected}")
    return folder.joinpath("schema.sql").read_text(encoding="utf-8"), _Queries(**named)


SCHEMA, BQ = _load()


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

    def insert(self, records: Sequence[Record], enter: Enter) -> None:
        self._db.write(lambda conn: self._insert(conn, records, enter))

    def _insert(self, conn: sqlite3.Connection, records: Sequence[Record], enter: Enter) -> None:
        now = self.clock()
        for record in records:
            _insert(conn, record, now)  # ValueError for a uuid that exists, before enter().
            (seq,) = conn.execute(BQ.seq_of, (record["uuid"],)).fetchone()
            delay = record["ready_at"] - now
            info = EntryInfo(
                record["uuid"], record["queue"], record["priority"], record["ttr_seconds"], None
            )
            bid = enter(_delayed_by(info, delay))
            _set_entry(conn, seq, bid, record["ready_at"], delay)

    # --- delivered entries -------------------------------------------------------------------

    def claim(self, uuid: str, bid: int, worker: str) -> Claim:
        return self._db.write(lambda conn: self._claim(conn, uuid, bid, worker))

    def _claim(self, conn: sqlite3.Connection, uuid: str, bid: int, worker: str) -> Claim:
        row = conn.execute(BQ.claim_row, (uuid,)).fetchone()
        if row is None or row[-2] not in (None, bid):
            return Claim(Verdict.STALE)
        now = self.clock()
        job_row = row[:-2]
        columns = columns_of(job_row)
        if any(name == columns["queue"] for (name,) in conn.execute(Q.paused_queues)):
            return Claim(Verdict.QUEUE_PAUSED, priority=columns["priority"])
        if columns["state"] == RUNNING:
            if columns["lease_expires_at"] > now:
                left = columns["lease_expires_at"] - now
                return Claim(Verdict.HELD, delay_seconds=left, priority=columns["priority"])
            _rescue_row(conn, job_row, columns, now)
        if columns["state"] in READY:
            return self._claim_ready(conn, job_row, columns, (bid, row[-2], row[-1]), worker)
        verdict = Verdict.BURY if columns["state"] in BURIED else Verdict.DONE
        return Claim(verdict, priority=columns["priority"])

    def _claim_ready(
        self,
        conn: sqlite3.Connection,
        job_row: tuple[Any, ...],
        columns: Record,
        entry: tuple[int, int | None, float | None],
        worker: str,
    ) -> Claim:
        """``entry``: the delivered entry's id, and the record's entry id and due time."""
        (bid, known_bid, due_at), seq = entry, job_row[0]
        now, priority = self.clock(), columns["priority"]
        if columns["expires_at"] is not None and columns["expires_at"] <= now:
            _expire(conn, seq, now)
            return Claim(Verdict.DONE, priority=priority)
        if columns["ready_at"] > now:
            delay = columns["ready_at"] - now
            _set_entry(conn, seq, bid, columns["ready_at"], delay)  # released with this delay.
            return Claim(Verdict.NOT_DUE, delay_seconds=delay, priority=priority)
        _common.start_run(columns, worker, now)  # it changes columns only.
        conn.execute(Q.start_run, {**columns, "seq": seq})
        _log(conn, seq, now, "reserved", RUNNING, worker, f"attempt {columns['attempts']}")
        if known_bid is None or due_at is not None:  # adopt the entry; it is no longer delayed.
            _set_entry(conn, seq, bid, None, 0.0)
        record: Record = json.loads(job_row[-1])
        record.update(columns)
        return Claim(Verdict.CLAIMED, record=record, priority=priority)

    # --- settling a run ----------------------------------------------------------------------

    def settle(self, lease: Lease, settlement: Settlement) -> Settled:
        values = settlement.progress.values if settlement.progress else None
        encoded = Encoded(settlement.result, values)
        return self._db.write(lambda conn: self._settle(conn, lease, settlement, encoded))

    def settle_and_claim(
        self, lease: Lease, settlement: Settlement, uuid: str, bid: int, worker: str
    ) -> tuple[Settled, Claim]:
        """Both in one transaction: one commit per job for a busy worker, not two."""
        values = settlement.progress.values if settlement.progress else None
        encoded = Encoded(settlement.result, values)

        def both(conn: sqlite3.Connection) -> tuple[Settled, Claim]:
            settled = self._settle(conn, lease, settlement, encoded)
            return settled, self._claim(conn, uuid, bid, worker)

        return self._db.write(both)

    def _settle(
        self, conn: sqlite3.Connection, lease: Lease, settlement: Settlement, encoded: Encoded
    ) -> Settled:
        now = self.clock()
        seq, record = settle_row(conn, lease, settlement, encoded, now)
        state = record["state"]
        info = _info(conn.execute(BQ.entry_row_by_seq, (seq,)).fetchone())
        delay = max(0.0, record["ready_at"] - now)
        if state == State.SCHEDULED.value:
            _set_entry(conn, seq, info.bid, record["ready_at"], delay)
        return Settled(State(state), info.bid, info.queue, info.priority, info.ttr_seconds, delay)

    # --- rescue and operators ----------------------------------------------------------------

    def rescue(self, limit: int, enter: Enter) -> list[Moved]:
        if limit <= 0:
            return []
        # Every worker calls this every few seconds: look first without taking the write lock.
        found = self._db.read(
            lambda conn: conn.execute(Q.any_to_rescue, {"now": self.clock()}).fetchone()
        )
        if found is None:
            return []
        return self._db.write(lambda conn: self._rescue(conn, limit, enter))

    def _rescue(self, conn: sqlite3.Connection, limit: int, enter: Enter) -> list[Moved]:
        return [
            self._after_move(conn, seq, State(state), enter)
            for seq, _uuid, state in rescue_rows(conn, self.clock(), limit)
        ]

    def act(self, uuid: str, action: str, worker: str | None, enter: Enter) -> Moved:
        return self._db.write(lambda conn: self._act(conn, uuid, action, worker, enter))

    def _act(
        self,
        conn: sqlite3.Connection,
        uuid: str,
        action: str,
        worker: str | None,
        enter: Enter,
    ) -> Moved:
        row = conn.execute(BQ.entry_row, (uuid,)).fetchone()
        if row is None:
            raise JobNotFound(uuid)
        state = _move(conn, row[0], uuid, row[2], action, worker, self.clock())
        return self._after_move(conn, row[0], state, enter)

    def kick(self, queue: str, limit: int, enter: Enter) -> list[Moved]:
        return self._db.write(lambda conn: self._kick(conn, queue, limit, enter))

    def _kick(self, conn: sqlite3.Connection, queue: str, limit: int, enter: Enter) -> list[Moved]:
        now = self.clock()
        rows = conn.execute(Q.oldest_failed, {"queue": queue, "limit": max(0, limit)}).fetchall()
        moved = []
        for seq, uuid, state in rows:
            new_state = _move(conn, seq, uuid, state, "retry", None, now)
            moved.append(self._after_move(conn, seq, new_state, enter))
        return moved

    def _after_move(self, conn: sqlite3.Connection, seq: int, state: State, enter: Enter) -> Moved:
        """A job moved to ``state``: one sent back to waiting gets an entry (ready now);
        any other forgets a delay, and keeps its old entry's id for the caller to dispose of."""
        info = _info(conn.execute(BQ.entry_row_by_seq, (seq,)).fetchone())
        new_bid = info.bid
        if state == State.WAITING:
            new_bid = enter(info)
            _set_entry(conn, seq, new_bid, None, 0.0)
        elif state != State.RUNNING:
            conn.execute(BQ.forget_delay, (seq,))
        return Moved(info.uuid, state, info.bid, new_bid, info.priority)

    # --- the reconciler's reads and repairs ------------------------------------------------

    def entry_of(self, uuid: str) -> tuple[State, int | None] | None:
        row = self._db.read(lambda conn: conn.execute(BQ.entry_row, (uuid,)).fetchone())
        return None if row is None else (State(row[2]), row[7])

    def replace_entry(self, uuid: str, bid: int | None, enter: Enter) -> int | None:
        return self._db.write(lambda conn: self._replace(conn, uuid, bid, enter))

    def _replace(
        self, conn: sqlite3.Connection, uuid: str, bid: int | None, enter: Enter
    ) -> int | None:
        row = conn.execute(BQ.entry_row, (uuid,)).fetchone()
        if row is None or row[2] not in READY or row[7] != bid:
            return None
        delay = row[6] - self.clock()
        new_bid = enter(_delayed_by(_info(row), delay))
        _set_entry(conn, row[0], new_bid, row[6], delay)
        return new_bid

    def ready_after(self, seq: int, limit: int) -> list[Ready]:
        now = self.clock()
        rows = self._db.read(
            lambda conn: conn.execute(BQ.ready_after, {"after": seq, "limit": limit}).fetchall()
        )
        return [Ready(row[0], _delayed_by(_info(row), row[6] - now)) for row in rows]

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


def _rescue_row(
    conn: sqlite3.Connection, job_row: tuple[Any, ...], columns: Record, now: float
) -> None:
    """A running job whose lease expired, found by the entry beanstalkd gave back: rescued as
    rescue_expired would (waiting again, or failed when out of attempts); ``columns`` follow."""
    errors = record_of(job_row)["errors"]
    before = {"attempts": columns["attempts"], "max_retries": columns["max_retries"]}
    before["errors"] = errors
    record = dict(before)
    state, event = _common.rescue(record, now)
    _write(conn, job_row[0], before, record)
    _log(conn, job_row[0], now, event, state)
    columns.update({k: v for k, v in record.items() if k in columns})


def _take_due(conn: sqlite3.Connection, now: float, limit: int) -> tuple[list[int], float | None]:
    rows = conn.execute(BQ.due, {"now": now, "limit": limit}).fetchall()
    wall = time.time()
    for job, _bid, _until in rows:
        conn.execute(BQ.forget_delay, (job,))
    kick = [bid for _job, bid, until in rows if bid is not None and until and until > wall]
    (following,) = conn.execute(BQ.next_due).fetchone()
    return kick, following


def _set_entry(
    conn: sqlite3.Connection, seq: int, bid: int | None, due_at: float | None, delay: float
) -> None:
    """Record the job's entry; with a delay, when it is due and until when beanstalkd (which
    counts whole seconds from now) keeps it back."""
    delayed = delay > 0 and due_at is not None
    conn.execute(
        BQ.set_entry,
        {
            "job": seq,
            "bid": bid,
            "due_at": due_at if delayed else None,
            "delayed_until": time.time() + whole_seconds(delay) if delayed else None,
        },
    )


def _info(row: tuple[Any, ...]) -> EntryInfo:
    """The entry info of an ``entry_row`` (seq, uuid, state, queue, priority, ttr, ready_at,
    bid)."""
    return EntryInfo(uuid=row[1], queue=row[3], priority=row[4], ttr_seconds=row[5], bid=row[7])


def _delayed_by(info: EntryInfo, delay: float) -> EntryInfo:
    return EntryInfo(
        info.uuid, info.queue, info.priority, info.ttr_seconds, info.bid, max(0.0, delay)
    )
