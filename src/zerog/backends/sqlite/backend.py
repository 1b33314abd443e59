"""``sqlite://``: the embedded default, a complete backend that many processes on one machine
share through one file.

Each contract method is one SQLite transaction (``BEGIN IMMEDIATE`` for writes; see
:mod:`._db` for why no caller sees "database is locked"). What a step does to a record is not
written again here: the backend loads the few keys a step reads, applies the same
:mod:`zerog.backends._common` function the memory backend applies, and writes back only the keys
that changed, patching the JSON document in place with ``json_set``. The steps live in modules
of their own (:mod:`._put`, :mod:`._reserve`, :mod:`._steps`, :mod:`._effects`, ...); this
module runs each in its transaction.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from zerog.backends import _common
from zerog.backends.base import (
    STALE_WORKER_SECONDS,
    Backend,
    Batch,
    Capability,
    Change,
    Control,
    Lease,
    ListQuery,
    Page,
    Placed,
    Progress,
    Reservation,
    ReserveRequest,
    Retention,
    Settlement,
    history_entry,
)
from zerog.backends.sqlite import _db, _open, _recur
from zerog.backends.sqlite._alter import alter_step
from zerog.backends.sqlite._prune import prune_step
from zerog.backends.sqlite._put import put_row
from zerog.backends.sqlite._reserve import Taken, reserve_batch, reserve_step
from zerog.backends.sqlite._rows import Encoded, dumps, record_of, with_flow_keys
from zerog.backends.sqlite._sql import Q, list_sql
from zerog.backends.sqlite._steps import (
    appends,
    encoded_of,
    held,
    move_step,
    rescue_step,
    settle_all,
    settle_step,
)
from zerog.backends.sqlite._txn import Txn, cap_history, write
from zerog.errors import DuplicateJob, JobNotFound, ReservationLost
from zerog.record import Record
from zerog.states import State
from zerog.stats import empty as empty_stats
from zerog.stats import merge as merge_stats
from zerog.urls import BackendURL

T = TypeVar("T")


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
        self._capped = threading.local()  # this thread's connection and the cap it has.
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

    def transact(self, body: Callable[[Txn], T]) -> T:
        """Run ``body`` in a write transaction, with this backend's history cap in force on
        the connection (see _txn.cap_history; installed outside the transaction, and again
        only when :attr:`history_limit` changed). The beanstalk record store runs its steps
        through this too."""
        conn = self._db.connection()
        capped = self._capped
        if getattr(capped, "conn", None) is not conn or capped.keep != self.history_limit:
            keep = self.history_limit
            self._db.run(lambda c: cap_history(c, keep), None)
            capped.conn, capped.keep = conn, keep
        return self._db.write(lambda c: body(Txn(c, self.clock())))

    # --- producers ---------------------------------------------------------------------------

    def put(self, record: Record) -> Placed:
        return self.transact(lambda txn: put_row(txn, record)[0])

    def put_many(self, records: Iterable[Record]) -> list[Placed]:
        """Store several new jobs in one transaction: all of them, or none."""
        batch = list(records)
        if not batch:
            return []

        return self.transact(lambda txn: [put_row(txn, record)[0] for record in batch])

    # --- workers -----------------------------------------------------------------------------

    def reserve(self, request: ReserveRequest) -> Reservation | None:
        return self._reservation(
            self.transact(lambda txn: reserve_step(txn, request.queues, request.worker)),
            request,
        )

    @classmethod
    def _reservation(cls, taken: Taken | None, request: ReserveRequest) -> Reservation | None:
        return None if taken is None else cls._reserved(taken, request)

    @staticmethod
    def _reserved(taken: Taken, request: ReserveRequest) -> Reservation:
        # The document is decoded after COMMIT: other processes wait for the lock meanwhile.
        doc, columns = taken
        record: Record = json.loads(doc)
        record.update(columns)
        with_flow_keys(record)
        return Reservation(Lease(record["uuid"], record["lease_token"], request.worker), record)

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
        job = held(conn, lease, appends(progress))
        record = dict(job.record)
        _common.apply_progress(record, progress)
        record["lease_expires_at"] = now + record["ttr_seconds"]
        record["updated_at"] = now
        write(conn, job.seq, job.record, record, encoded)
        return Control(record["control"] or "")

    def settle(self, lease: Lease, settlement: Settlement) -> None:
        encoded = encoded_of(settlement)
        self.transact(lambda txn: settle_step(txn, lease, settlement, encoded))

    def settle_and_reserve(
        self, lease: Lease, settlement: Settlement, request: ReserveRequest
    ) -> Reservation | None:
        """Both in one transaction: one lock hand-over and one commit per job, not two."""
        encoded = encoded_of(settlement)

        def both(txn: Txn) -> Taken | None:
            settle_step(txn, lease, settlement, encoded)
            return reserve_step(txn, request.queues, request.worker)

        return self._reservation(self.transact(both), request)

    def settle_batch(
        self,
        finished: Sequence[tuple[Lease, Settlement]],
        request: ReserveRequest | None,
        count: int,
    ) -> Batch:
        """All of it in one transaction: one lock hand-over and one commit per batch."""
        encoded = [encoded_of(settlement) for _lease, settlement in finished]

        def batch(txn: Txn) -> tuple[list[str], list[Taken]]:
            lost = settle_all(txn, finished, encoded)
            if request is None:
                return lost, []
            return lost, reserve_batch(txn, request.queues, request.worker, count)

        lost, taken = self.transact(batch)
        if request is None:
            return Batch(lost=lost, reservations=[])
        return Batch(lost=lost, reservations=[self._reserved(t, request) for t in taken])

    def rescue_expired(self, limit: int = 100) -> list[str]:
        if limit <= 0:
            return []
        # Every worker calls this every few seconds: look first without taking the write lock.
        found = self._db.read(
            lambda conn: conn.execute(Q.any_to_rescue, {"now": self.clock()}).fetchone()
        )
        if found is None:
            return []
        moved = self.transact(lambda txn: rescue_step(txn, limit))
        return [uuid for _seq, uuid, _state in moved]

    # --- operators ---------------------------------------------------------------------------

    def act(self, uuid: str, action: str, worker: str | None = None) -> State:
        return self.transact(lambda txn: self._act(txn, uuid, action, worker))

    @staticmethod
    def _act(txn: Txn, uuid: str, action: str, worker: str | None) -> State:
        row = txn.conn.execute(Q.job_state, (uuid,)).fetchone()
        if row is None:
            raise JobNotFound(uuid)
        return move_step(txn, row[0], uuid, row[1], action, worker)

    def kick(self, queue: str, limit: int) -> int:
        count, refused = self.transact(lambda txn: self._kick(txn, queue, limit))
        if refused is not None:
            raise refused
        return count

    @staticmethod
    def _kick(txn: Txn, queue: str, limit: int) -> tuple[int, DuplicateJob | None]:
        """Retry the oldest failed jobs; each retry is one act, so those made before one is
        refused (its unique key is held again) stay made, as on every backend."""
        params = {"queue": queue, "limit": max(0, limit)}
        rows = txn.conn.execute(Q.oldest_failed, params).fetchall()
        for done, (seq, uuid, state) in enumerate(rows):
            try:
                move_step(txn, seq, uuid, state, "retry", None)
            except DuplicateJob as exc:
                return done, exc
        return len(rows), None

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

    # --- flow --------------------------------------------------------------------------------

    def alter(self, uuid: str, change: Change, worker: str | None = None) -> Record:
        return self.transact(lambda txn: alter_step(txn, uuid, change, worker))

    def recur(self, recurrence: dict[str, Any]) -> None:
        dumps(recurrence)  # refuses what is not JSON before the transaction.
        self._db.write(lambda conn: _recur.recur(conn, recurrence))

    def unrecur(self, recurrence_id: str) -> bool:
        cursor = self._db.write(lambda conn: conn.execute(Q.unrecur, (recurrence_id,)))
        return cursor.rowcount > 0

    def recurrences(self, queue: str | None = None) -> list[dict[str, Any]]:
        rows = self._db.read(lambda conn: conn.execute(Q.recurrences, {"queue": queue}).fetchall())
        return [json.loads(doc) for (doc,) in rows]

    def update_recurrence(self, recurrence_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        return self._db.write(
            lambda conn: _recur.update(conn, recurrence_id, changes, self.clock())
        )

    def set_limit(self, name: str, maximum: int | None) -> None:
        if maximum is None:
            self._db.write(lambda conn: conn.execute(Q.unset_limit, (name,)))
        else:
            self._db.write(lambda conn: conn.execute(Q.set_limit, (name, int(maximum))))

    def limits(self) -> dict[str, int]:
        return dict(self._db.read(lambda conn: conn.execute(Q.limits).fetchall()))

    def config(self) -> dict[str, Any]:
        rows = self._db.read(lambda conn: conn.execute(Q.config).fetchall())
        return {key: json.loads(value) for key, value in rows}

    def set_config(self, key: str, value: Any) -> None:
        if value is None:
            self._db.write(lambda conn: conn.execute(Q.unset_config, (key,)))
        else:
            text = dumps(value)
            self._db.write(lambda conn: conn.execute(Q.set_config, (key, text)))

    def add_stats(self, deltas: Sequence[Any]) -> None:
        if deltas:
            self._db.write(lambda conn: _add_stats(conn, deltas))

    def stats(self, queue: str, day: float) -> dict[str, Any]:
        row = self._db.read(lambda conn: conn.execute(Q.stats, (queue, day)).fetchone())
        found: dict[str, Any] = json.loads(row[0]) if row is not None else empty_stats()
        return found

    def prune(self, retention: Retention, limit: int = 1000) -> int:
        return self._db.write(lambda conn: prune_step(conn, retention, limit, self.clock()))

    def top_tags(self, limit: int = 20) -> list[tuple[str, int]]:
        rows = self._db.read(lambda conn: conn.execute(Q.top_tags, (max(0, limit),)).fetchall())
        return [(tag, count) for tag, count in rows]

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
            "recurrence": query.recurrence,
            "worker": query.worker,
            "limit": limit + 1,
        }
        if query.tracked is not None:
            params["tracked" if query.tracked else "untracked"] = True
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


def _add_stats(conn: sqlite3.Connection, deltas: Sequence[Any]) -> None:
    """Merge each delta into its queue-day's stored statistics."""
    for delta in deltas:
        row = conn.execute(Q.stats, (delta.queue, delta.day)).fetchone()
        stored = json.loads(row[0]) if row is not None else empty_stats()
        conn.execute(Q.set_stats, (delta.queue, delta.day, dumps(merge_stats(stored, delta))))


def _register_worker(conn: sqlite3.Connection, params: dict[str, Any], now: float) -> None:
    """Upsert a worker's entry; entries unseen for STALE_WORKER_SECONDS go here (readers
    only skip them, so that reads have no side effects)."""
    conn.execute(Q.register_worker, {**params, "now": now})
    conn.execute(Q.prune_workers, {"cutoff": now - STALE_WORKER_SECONDS})


def _get(conn: sqlite3.Connection, uuid: str, history: bool) -> Record:
    row = conn.execute(Q.job, (uuid,)).fetchone()
    if row is None:
        raise JobNotFound(uuid)
    record = record_of(row)
    if history:
        record["history"] = [history_entry(*h) for h in conn.execute(Q.history, (row[0],))]
    return record


# --- a step for callers with a transaction of their own ---------------------------------------
# ``txn`` (optional): the caller's transaction context; its ``readied`` list receives the jobs
# a step made ready besides its own (dependents released, recurring jobs spawned).


def settle_row(
    conn: sqlite3.Connection,
    lease: Lease,
    settlement: Settlement,
    encoded: Encoded,
    now: float,
    txn: Txn | None = None,
) -> tuple[int, Record]:
    """End a run inside the caller's transaction (see Backend.settle); returns the job's seq
    and the record's changed keys. The beanstalk backend's record store runs the same step."""
    return settle_step(txn or Txn(conn, now), lease, settlement, encoded)
