"""``sqlite://``: the embedded default, a complete backend that many processes on one machine
share through one file.

Each contract method is one SQLite transaction (``BEGIN IMMEDIATE`` for writes; see
:mod:`._db` for why no caller sees "database is locked"). What a step does to a record is not
written again here: the backend loads the few keys a step reads, applies the same
:mod:`zerog.backends._common` function the memory backend applies, and writes back only the keys
that changed, patching the JSON document in place with ``json_set``.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from zerog.backends import _common
from zerog.backends.base import (
    STALE_WORKER_SECONDS,
    Backend,
    Capability,
    Control,
    Lease,
    ListQuery,
    Page,
    Progress,
    Reservation,
    ReserveRequest,
    Settlement,
    history_entry,
    plan_action,
)
from zerog.backends.sqlite import _db, _open
from zerog.backends.sqlite._rows import Encoded, columns_of, dumps, loads_list, record_of
from zerog.backends.sqlite._sql import COLUMN_SET, Q, list_sql, update_sql
from zerog.errors import JobNotFound, ReservationLost
from zerog.record import Record
from zerog.states import State
from zerog.urls import BackendURL

RUNNING = State.RUNNING.value
EXPIRED = State.EXPIRED.value


class SqliteBackend(Backend):
    """Jobs in one SQLite file in WAL mode; safe for many threads and processes at once."""

    capabilities = frozenset({Capability.MULTI_PROCESS, Capability.FAKE_CLOCK})

    def __init__(
        self,
        path: str | os.PathLike[str],
        clock: Callable[[], float] | None = None,
        *,
        synchronous: str = "normal",
        busy_timeout_seconds: float = _open.DEFAULT_BUSY_TIMEOUT_SECONDS,
        lock_wait_seconds: float = _db.LOCK_WAIT_SECONDS,
    ) -> None:
        super().__init__(clock)
        self.path = _open.checked_path(Path(path))
        self._db = _db.Database(
            _db.Options(
                path=self.path,
                synchronous=_open.synchronous_of(synchronous),
                busy_timeout_seconds=busy_timeout_seconds,
                lock_wait_seconds=lock_wait_seconds,
            )
        )
        try:
            _open.open_schema(self._db)
        except BaseException:
            self._db.close()
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

    @property
    def busy_retries(self) -> int:
        """How many transactions were run again because another connection held the lock."""
        return self._db.busy_retries

    def close(self) -> None:
        self._db.close()

    # --- producers ---------------------------------------------------------------------------

    def put(self, record: Record) -> None:
        self._db.write(lambda conn: _insert(conn, record, self.clock()))

    def put_many(self, records: Iterable[Record]) -> None:
        """Store several new jobs in one transaction: all of them, or none."""
        batch = list(records)
        if batch:
            self._db.write(lambda conn: _insert_all(conn, batch, self.clock()))

    # --- workers -----------------------------------------------------------------------------

    def reserve(self, request: ReserveRequest) -> Reservation | None:
        return self._reservation(self._db.write(lambda conn: self._reserve(conn, request)), request)

    @staticmethod
    def _reservation(
        taken: tuple[str, Record] | None, request: ReserveRequest
    ) -> Reservation | None:
        if taken is None:
            return None
        # The document is decoded after COMMIT: other processes wait for the lock meanwhile.
        doc, columns = taken
        record: Record = json.loads(doc)
        record.update(columns)
        return Reservation(Lease(record["uuid"], record["lease_token"], request.worker), record)

    def _reserve(
        self, conn: sqlite3.Connection, request: ReserveRequest
    ) -> tuple[str, Record] | None:
        """The document and the (updated) columns of the job taken, if any."""
        now = self.clock()
        for queue in request.queues:
            while True:
                row = conn.execute(Q.next_ready, {"queue": queue, "now": now}).fetchone()
                if row is None:
                    break
                columns = columns_of(row)
                if columns["expires_at"] is not None and columns["expires_at"] <= now:
                    _expire(conn, row[0], now)
                    continue
                _common.start_run(columns, request.worker, now)  # it changes columns only.
                conn.execute(Q.start_run, {**columns, "seq": row[0]})
                _log(
                    conn,
                    row[0],
                    now,
                    "reserved",
                    RUNNING,
                    request.worker,
                    f"attempt {columns['attempts']}",
                )
                return row[-1], columns
        return None

    def touch(self, lease: Lease) -> Control:
        return self._db.write(lambda conn: self._touch(conn, lease))

    def _touch(self, conn: sqlite3.Connection, lease: Lease) -> Control:
        params = {"now": self.clock(), "uuid": lease.uuid, "token": lease.token}
        row = conn.execute(Q.touch, params).fetchone()
        if row is None:
            raise ReservationLost(lease.uuid, lease.token)
        return Control(row[0] or "")

    def save(self, lease: Lease, progress: Progress) -> Control:
        encoded = Encoded(progress.values)
        return self._db.write(lambda conn: self._save(conn, lease, progress, encoded))

    def _save(
        self, conn: sqlite3.Connection, lease: Lease, progress: Progress, encoded: Encoded
    ) -> Control:
        now = self.clock()
        seq, before = _held(conn, lease, _appends(progress))
        record = dict(before)
        _common.apply_progress(record, progress)
        record["lease_expires_at"] = now + record["ttr_seconds"]
        record["updated_at"] = now
        _write(conn, seq, before, record, encoded)
        return Control(record["control"] or "")

    def settle(self, lease: Lease, settlement: Settlement) -> None:
        values = settlement.progress.values if settlement.progress else None
        encoded = Encoded(settlement.result, values)
        self._db.write(lambda conn: self._settle(conn, lease, settlement, encoded))

    def settle_and_reserve(
        self, lease: Lease, settlement: Settlement, request: ReserveRequest
    ) -> Reservation | None:
        """Both in one transaction: one lock hand-over and one commit per job, not two."""
        values = settlement.progress.values if settlement.progress else None
        encoded = Encoded(settlement.result, values)

        def both(conn: sqlite3.Connection) -> tuple[str, Record] | None:
            self._settle(conn, lease, settlement, encoded)
            return self._reserve(conn, request)

        return self._reservation(self._db.write(both), request)

    def _settle(
        self, conn: sqlite3.Connection, lease: Lease, settlement: Settlement, encoded: Encoded
    ) -> None:
        settle_row(conn, lease, settlement, encoded, self.clock())

    def rescue_expired(self, limit: int = 100) -> list[str]:
        if limit <= 0:
            return []
        # Every worker calls this every few seconds: look first without taking the write lock.
        found = self._db.read(
            lambda conn: conn.execute(Q.any_to_rescue, {"now": self.clock()}).fetchone()
        )
        if found is None:
            return []
        return self._db.write(lambda conn: self._rescue(conn, limit))

    def _rescue(self, conn: sqlite3.Connection, limit: int) -> list[str]:
        return [uuid for _seq, uuid, _state in rescue_rows(conn, self.clock(), limit)]

    # --- operators ---------------------------------------------------------------------------

    def act(self, uuid: str, action: str, worker: str | None = None) -> State:
        return self._db.write(lambda conn: self._act(conn, uuid, action, worker))

    def _act(self, conn: sqlite3.Connection, uuid: str, action: str, worker: str | None) -> State:
        row = conn.execute(Q.job_state, (uuid,)).fetchone()
        if row is None:
            raise JobNotFound(uuid)
        return _move(conn, row[0], uuid, row[1], action, worker, self.clock())

    def kick(self, queue: str, limit: int) -> int:
        return self._db.write(lambda conn: self._kick(conn, queue, limit))

    def _kick(self, conn: sqlite3.Connection, queue: str, limit: int) -> int:
        now = self.clock()
        rows = conn.execute(Q.oldest_failed, {"queue": queue, "limit": max(0, limit)}).fetchall()
        for seq, uuid, state in rows:
            _move(conn, seq, uuid, state, "retry", None, now)
        return len(rows)

    # --- queues and workers ------------------------------------------------------------------

    def pause_queue(self, queue: str, paused: bool) -> None:
        params = {"name": queue, "now": self.clock()}
        sql = Q.pause_queue if paused else Q.resume_queue
        self._db.write(lambda conn: conn.execute(sql, params))

    def paused_queues(self) -> frozenset[str]:
        rows = self._db.read(lambda conn: conn.execute(Q.paused_queues).fetchall())
        return frozenset(row[0] for row in rows)

    def register_worker(self, worker: dict[str, Any]) -> None:
        entry = {k: v for k, v in worker.items() if k != "last_seen"}
        params = {
            "id": str(entry["id"]),
            "started_at": entry.get("started_at"),
            "doc": dumps(entry),  # refuses what is not JSON before the transaction.
        }
        self._db.write(lambda conn: _register_worker(conn, params, self.clock()))

    def unregister_worker(self, worker_id: str) -> None:
        self._db.write(lambda conn: conn.execute(Q.unregister_worker, (worker_id,)))

    def workers(self, max_age_seconds: float) -> list[dict[str, Any]]:
        cutoff = {"cutoff": self.clock() - max_age_seconds}  # a read: stale ones are skipped.
        rows = self._db.read(lambda conn: conn.execute(Q.live_workers, cutoff).fetchall())
        return [{**json.loads(doc), "last_seen": last_seen} for last_seen, doc in rows]

    # --- readers -----------------------------------------------------------------------------

    def get(self, uuid: str, history: bool = False) -> Record:
        return self._db.read(lambda conn: _get(conn, uuid, history), snapshot=history)

    def list(self, query: ListQuery) -> Page:
        limit = max(0, query.limit)
        params: dict[str, Any] = {
            "state": query.state,
            "queue": query.queue,
            "type": query.type,
            "tag": query.tag,
            "limit": limit + 1,
        }
        if query.cursor:
            params["before"] = int(query.cursor)
        sql = list_sql(
            tuple(name for name, value in params.items() if value is not None and name != "limit")
        )
        rows = self._db.read(lambda conn: conn.execute(sql, params).fetchall())
        page = rows[:limit]
        cursor = str(page[-1][0]) if len(rows) > limit and page else None
        return Page([record_of(row) for row in page], cursor)

    def counts(self) -> dict[str, dict[str, int]]:
        rows = self._db.read(lambda conn: conn.execute(Q.counts).fetchall())
        out: dict[str, dict[str, int]] = {}
        for queue, state, count in rows:
            out.setdefault(queue, {})[state] = count
        return out


# --- steps inside a transaction --------------------------------------------------------------


def _insert_all(conn: sqlite3.Connection, records: list[Record], now: float) -> None:
    for record in records:
        _insert(conn, record, now)


def _insert(conn: sqlite3.Connection, record: Record, now: float) -> None:
    missing = COLUMN_SET - record.keys()
    if missing:
        raise ValueError(f"the record lacks {', '.join(sorted(missing))}")
    doc = {k: v for k, v in record.items() if k not in COLUMN_SET and not k.startswith("_")}
    try:
        cursor = conn.execute(Q.insert_job, {**record, "doc": dumps(doc)})
    except sqlite3.IntegrityError as exc:
        if "jobs.uuid" in str(exc):
            raise ValueError(f"a job with id {record['uuid']!r} exists") from exc
        raise ValueError(f"the record of job {record['uuid']!r} is invalid: {exc}") from exc
    seq = cursor.lastrowid
    conn.executemany(Q.add_tag, [(tag, seq) for tag in record.get("tags") or ()])
    _log(conn, seq, now, "put", record["state"])


def _held(conn: sqlite3.Connection, lease: Lease, lists: bool) -> tuple[int, Record]:
    """The seq and the keys a lease holder's write reads; ReservationLost if not held."""
    params = {"uuid": lease.uuid, "token": lease.token}
    row = conn.execute(Q.held_with_lists if lists else Q.held, params).fetchone()
    if row is None:
        raise ReservationLost(lease.uuid, lease.token)
    record = {"attempts": row[1], "ttr_seconds": row[2], "control": row[3]}
    if lists:
        record["events"] = loads_list(row[4])
        record["errors"] = loads_list(row[5])
        record["samples"] = loads_list(row[6])
    return row[0], record


def _move(
    conn: sqlite3.Connection,
    seq: int,
    uuid: str,
    state: str,
    action: str,
    worker: str | None,
    now: float,
) -> State:
    """Apply an operator action to a job in ``state`` (see base.plan_action)."""
    move = plan_action(uuid, state, action)
    if move.to is None:
        conn.execute(Q.set_control, (action, seq))
        _log(conn, seq, now, move.event, state, worker)
        return State.RUNNING
    record: Record = {}
    _common.operator_move(record, move, now)
    _write(conn, seq, {}, record)
    _log(conn, seq, now, move.event, move.to.value, worker)
    return move.to


def _expire(conn: sqlite3.Connection, seq: int, now: float) -> None:
    record: Record = {}
    _common.expire(record, now)
    _write(conn, seq, {}, record)
    _log(conn, seq, now, "expired", EXPIRED)


def _write(
    conn: sqlite3.Connection,
    seq: int,
    before: Record,
    after: Record,
    encoded: Encoded | None = None,
) -> None:
    """Store the keys of ``after`` that are new or changed since ``before``.

    The _common functions replace values and never change them in place, so identity tells
    what changed. ``encoded`` holds JSON made before the transaction for some of the values.
    """
    columns: list[str] = []
    keys: list[str] = []
    values: list[Any] = []
    texts: list[str] = []
    for key, value in after.items():
        if key in before and before[key] is value:
            continue
        if key in COLUMN_SET:
            columns.append(key)
            values.append(value)
        else:
            keys.append(key)
            texts.append(encoded.get(value) if encoded else dumps(value))
    if columns or keys:
        conn.execute(update_sql(tuple(columns), tuple(keys)), [*values, *texts, seq])


def settle_row(
    conn: sqlite3.Connection, lease: Lease, settlement: Settlement, encoded: Encoded, now: float
) -> tuple[int, Record]:
    """End a run inside the caller's transaction (see Backend.settle); returns the job's seq
    and the record's changed keys. The beanstalk backend's record store runs the same step."""
    lists = settlement.error is not None or _appends(settlement.progress)
    seq, before = _held(conn, lease, lists)
    record = dict(before)
    state = _common.apply_settlement(record, settlement, now)
    _write(conn, seq, before, record, encoded)
    detail = settlement.error["msg"] if settlement.error else None
    _log(conn, seq, now, settlement.event, state, lease.worker, detail)
    return seq, record


def rescue_rows(conn: sqlite3.Connection, now: float, limit: int) -> list[tuple[int, str, str]]:
    """Recover running jobs whose lease expired and expire ready jobs past their TTL (see
    Backend.rescue_expired), inside the caller's transaction; returns (seq, uuid, new state)
    of each job moved. The beanstalk backend's record store runs the same steps."""
    moved = []
    for seq, uuid, state, attempts, max_retries, errors in conn.execute(
        Q.to_rescue, {"now": now, "limit": limit}
    ).fetchall():
        before: Record = {}
        record: Record = {}
        if state == RUNNING:
            before = {
                "attempts": attempts,
                "max_retries": max_retries,
                "errors": loads_list(errors),
            }
            record = dict(before)
            state, event = _common.rescue(record, now)
        else:
            _common.expire(record, now)
            state, event = EXPIRED, "expired"
        _write(conn, seq, before, record)
        _log(conn, seq, now, event, state)
        moved.append((seq, uuid, state))
    return moved


def _register_worker(conn: sqlite3.Connection, params: dict[str, Any], now: float) -> None:
    """Upsert a worker's entry; entries unseen for STALE_WORKER_SECONDS go here (readers
    only skip them, so that reads have no side effects)."""
    conn.execute(Q.register_worker, {**params, "now": now})
    conn.execute(Q.prune_workers, {"cutoff": now - STALE_WORKER_SECONDS})


def _log(
    conn: sqlite3.Connection,
    seq: int | None,
    at: float,
    event: str,
    state: str,
    worker: str | None = None,
    detail: str | None = None,
) -> None:
    conn.execute(Q.add_history, (seq, at, event, state, worker, detail))


def _get(conn: sqlite3.Connection, uuid: str, history: bool) -> Record:
    row = conn.execute(Q.job, (uuid,)).fetchone()
    if row is None:
        raise JobNotFound(uuid)
    record = record_of(row)
    if history:
        record["history"] = [history_entry(*h) for h in conn.execute(Q.history, (row[0],))]
    return record


def _appends(progress: Progress | None) -> bool:
    """Whether writing this progress needs the lists it appends to."""
    return progress is not None and bool(
        progress.events or progress.errors or progress.sample is not None
    )
