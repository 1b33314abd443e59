"""The job logic of the SQL backends, once for every dialect: each contract method runs the
steps of :mod:`zerog.backends.sql.steps` in one transaction of the dialect's
:class:`~.dialect.Database`.

The steps take their statements from the connection (``conn.q``), so a dialect brings only its
SQL files, its connections and its transactions: :class:`~zerog.backends.sqlite.SqliteBackend`
(one file, ``BEGIN IMMEDIATE``) and :class:`~zerog.backends.postgres.PostgresBackend` (a server,
writers at once, each step locking the rows and keys it decides on: ``conn.q.lock_key``).
Every write that needs the time goes through
:meth:`SqlBackend.transact`, whose :class:`~.txn.Txn` carries the transaction's time: the
dialect decides where it comes from (the fake clock, or the server's clock).
"""

from __future__ import annotations

import abc
import json
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

from zerog import lifecycle
from zerog.backends.contract import STALE_WORKER_SECONDS, FullBackend
from zerog.backends.sql import share
from zerog.backends.sql.audit import SqlAudit
from zerog.backends.sql.dialect import Database
from zerog.backends.sql.messages import SqlMessages
from zerog.backends.sql.rows import Encoded, dumps, record_of, with_flow_keys
from zerog.backends.sql.statements import Conn
from zerog.backends.sql.steps import recur as recur_steps
from zerog.backends.sql.steps.alter import alter_step
from zerog.backends.sql.steps.delete import delete_step
from zerog.backends.sql.steps.prune import prune_step
from zerog.backends.sql.steps.put import put_row
from zerog.backends.sql.steps.put_many import put_rows
from zerog.backends.sql.steps.quarantine import quarantine_step
from zerog.backends.sql.steps.reserve import Taken, reserve_batch
from zerog.backends.sql.steps.settle import (
    appends,
    encoded_of,
    held,
    move_step,
    rescue_step,
    settle_all,
)
from zerog.backends.sql.txn import Txn, write
from zerog.backends.sql.unreadable import Unreadable, parse_doc
from zerog.errors import DuplicateJob, JobNotFound, ReservationLost
from zerog.lifecycle import history_entry
from zerog.model import (
    Batch,
    Change,
    Control,
    Lease,
    ListQuery,
    Page,
    Placed,
    Progress,
    Record,
    Reservation,
    ReserveRequest,
    Retention,
    Settlement,
    State,
)
from zerog.stats import empty as empty_stats
from zerog.stats import merge as merge_stats

T = TypeVar("T")
RUNNING = State.RUNNING.value

PING_KEY = "_ping"  # a config key no reader sees: written and removed by ping(write=True).


class SqlBackend(SqlMessages, SqlAudit, FullBackend):
    """The contract over a dialect's :class:`~.dialect.Database` and its statements."""

    database: Database
    """The dialect's connections and transactions (the hook of :mod:`.dialect`)."""

    @abc.abstractmethod
    def transact(self, body: Callable[[Txn], T]) -> T:
        """Run ``body`` in a write transaction, with the transaction's time and this
        backend's history cap in force."""

    def close(self) -> None:
        self.database.close()

    def serialize_writes(self) -> None:
        """Make this backend's write transactions run one at a time, for steps written for a
        single writer (the beanstalk record store's). A dialect whose writes run at once
        (PostgreSQL, whose steps lock the rows and keys they decide on) overrides this."""

    # --- producers ---------------------------------------------------------------------------

    def put(self, record: Record) -> Placed:
        return self.transact(lambda txn: put_row(txn, record)[0])

    def put_many(self, records: Iterable[Record]) -> list[Placed]:
        """Store several new jobs in one transaction: all of them, or none."""
        batch = list(records)
        if not batch:
            return []

        return self.transact(lambda txn: put_rows(txn, batch))

    # --- workers -----------------------------------------------------------------------------

    def _reservations(self, taken: list[Taken], request: ReserveRequest) -> list[Reservation]:
        """The jobs claimed, their documents decoded after COMMIT (other processes wait for
        the lock meanwhile); one that cannot be read is quarantined, in a transaction of its
        own, and not handed to the worker (see :mod:`.unreadable`)."""
        reservations = []
        for doc, columns in taken:
            try:
                record = parse_doc(doc)
            except Unreadable as exc:
                self._quarantine(columns, doc, exc.reason)
                continue
            record.update(columns)
            with_flow_keys(record)
            lease = Lease(record["uuid"], record["lease_token"], request.worker)
            reservations.append(Reservation(lease, record))
        return reservations

    def _quarantine(self, columns: Record, doc: Any, reason: str) -> None:
        """Fail a job this worker just claimed whose document cannot be read."""

        def step(txn: Txn) -> None:
            row = txn.conn.execute(
                txn.q.held, {"uuid": columns["uuid"], "token": columns["lease_token"]}
            ).fetchone()
            if row is not None:  # still ours: nobody met it meanwhile.
                quarantine_step(txn, row[0], columns["uuid"], RUNNING, doc, reason)

        self.transact(step)

    def next_due(self, queues: Sequence[str]) -> float | None:
        now = self.clock()

        def first(conn: Conn) -> float | None:
            due = [
                conn.execute(conn.q.next_due, {"queue": queue, "now": now}).fetchone()[0]
                for queue in queues
            ]
            found = [float(at) for at in due if at is not None]
            free = share.Rates(conn, now).free_at()  # a full rate window frees then.
            found += [] if free is None else [free]
            return min(found) if found else None

        return self.database.read(first)

    def touch(self, lease: Lease) -> Control:
        return self.transact(lambda txn: self._touch(txn, lease))

    @staticmethod
    def _touch(txn: Txn, lease: Lease) -> Control:
        params = {"now": txn.now, "uuid": lease.uuid, "token": lease.token}
        row = txn.conn.execute(txn.q.touch, params).fetchone()
        if row is None:
            raise ReservationLost(lease.uuid, lease.token)
        return Control(row[0] or "")

    def save(self, lease: Lease, progress: Progress) -> Control:
        encoded = Encoded(progress.values)
        return self.transact(lambda txn: self._save(txn, lease, progress, encoded))

    @staticmethod
    def _save(txn: Txn, lease: Lease, progress: Progress, encoded: Encoded) -> Control:
        now, conn = txn.now, txn.conn
        job = held(conn, lease, appends(progress))
        record = dict(job.record)
        lifecycle.apply_progress(record, progress)
        record["lease_expires_at"] = now + record["ttr_seconds"]
        record["updated_at"] = now
        write(conn, job.seq, job.record, record, encoded)
        return Control(record["control"] or "")

    def settle_batch(
        self,
        finished: Sequence[tuple[Lease, Settlement]],
        request: ReserveRequest | None,
        count: int,
    ) -> Batch:
        """All of it in one transaction: one lock hand-over and one commit per batch. A
        refused pipeline step raises out of the transaction, so nothing of the batch is
        written."""
        encoded = [encoded_of(settlement) for _lease, settlement in finished]

        def batch(txn: Txn) -> tuple[list[str], list[Taken]]:
            lost = settle_all(txn, finished, encoded)
            if request is None:
                return lost, []
            return lost, reserve_batch(txn, request.queues, request.worker, count)

        lost, taken = self.transact(batch)
        if request is None:
            return Batch(lost=lost, reservations=[])
        reservations = self._reservations(taken, request)
        if len(reservations) < len(taken):  # some were quarantined: claim others instead.
            reservations += self.settle_batch(
                (), request, len(taken) - len(reservations)
            ).reservations
        return Batch(lost=lost, reservations=reservations)

    def rescue_expired(self, limit: int = 100) -> list[str]:
        if limit <= 0:
            return []
        # Every worker calls this every few seconds: look first without taking the write lock.
        found = self.database.read(
            lambda conn: conn.execute(conn.q.any_to_rescue, {"now": self.clock()}).fetchone()
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
        row = txn.conn.execute(txn.q.job_state, (uuid,)).fetchone()
        if row is None:
            raise JobNotFound(uuid)
        return move_step(txn, row[0], uuid, row[1], action, worker)

    def ping(self, write: bool = False) -> None:
        if not write:
            self.database.read(lambda conn: conn.execute(conn.q.config).fetchall())
            return

        # A row in and out again in one transaction: a real write (the disk must take it),
        # nothing a reader ever sees.
        def probe(conn: Conn) -> None:
            conn.execute(conn.q.set_config, (PING_KEY, "0"))
            conn.execute(conn.q.unset_config, (PING_KEY,))

        self.database.write(probe)

    def delete(self, uuid: str, worker: str | None = None) -> bool:
        return self.transact(lambda txn: delete_step(txn, uuid))

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
        rows = txn.conn.execute(txn.q.oldest_failed, params).fetchall()
        for done, (seq, uuid, state) in enumerate(rows):
            try:
                move_step(txn, seq, uuid, state, "retry", None)
            except DuplicateJob as exc:
                return done, exc
        return len(rows), None

    # --- queues and workers ------------------------------------------------------------------

    def pause_queue(self, queue: str, paused: bool) -> None:
        def pause(txn: Txn) -> None:
            sql = txn.q.pause_queue if paused else txn.q.resume_queue
            txn.conn.execute(sql, {"name": queue, "now": txn.now})

        self.transact(pause)

    def paused_queues(self) -> frozenset[str]:
        rows = self.database.read(lambda conn: conn.execute(conn.q.paused_queues).fetchall())
        return frozenset(row[0] for row in rows)

    def register_worker(self, worker: dict[str, Any]) -> None:
        entry = {k: v for k, v in worker.items() if k != "last_seen"}
        params = {
            "id": str(entry["id"]),
            "started_at": entry.get("started_at"),
            "doc": dumps(entry),  # refuses what is not JSON before the transaction.
        }
        self.transact(lambda txn: _register_worker(txn.conn, params, txn.now))

    def unregister_worker(self, worker_id: str) -> None:
        self.database.write(lambda conn: conn.execute(conn.q.unregister_worker, (worker_id,)))

    def workers(self, max_age_seconds: float) -> list[dict[str, Any]]:
        cutoff = {"cutoff": self.clock() - max_age_seconds}  # a read: stale ones are skipped.
        rows = self.database.read(lambda conn: conn.execute(conn.q.live_workers, cutoff).fetchall())
        return [{**json.loads(doc), "last_seen": last_seen} for last_seen, doc in rows]

    # --- flow --------------------------------------------------------------------------------

    def alter(self, uuid: str, change: Change, worker: str | None = None) -> Record:
        return self.transact(lambda txn: alter_step(txn, uuid, change, worker))

    def recur(self, recurrence: dict[str, Any]) -> None:
        dumps(recurrence)  # refuses what is not JSON before the transaction.
        self.database.write(lambda conn: recur_steps.recur(conn, recurrence))

    def unrecur(self, recurrence_id: str) -> bool:
        cursor = self.database.write(lambda conn: conn.execute(conn.q.unrecur, (recurrence_id,)))
        return bool(cursor.rowcount > 0)

    def recurrences(self, queue: str | None = None) -> list[dict[str, Any]]:
        rows = self.database.read(
            lambda conn: conn.execute(conn.q.recurrences, {"queue": queue}).fetchall()
        )
        return [json.loads(doc) for (doc,) in rows]

    def update_recurrence(self, recurrence_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        return self.transact(
            lambda txn: recur_steps.update(txn.conn, recurrence_id, changes, txn.now)
        )

    def set_limit(self, name: str, maximum: int | None) -> None:
        if maximum is None:
            self.database.write(lambda conn: conn.execute(conn.q.unset_limit, (name,)))
        else:
            self.database.write(lambda conn: conn.execute(conn.q.set_limit, (name, int(maximum))))

    def limits(self) -> dict[str, int]:
        return dict(self.database.read(lambda conn: conn.execute(conn.q.limits).fetchall()))

    def set_rate_limit(self, name: str, maximum: int | None, per: float) -> None:
        self.database.write(lambda conn: share.set_rate_limit(conn, name, maximum, per))

    def rate_limits(self) -> dict[str, tuple[int, float]]:
        return self.database.read(share.rate_limits)

    def config(self) -> dict[str, Any]:
        rows = self.database.read(lambda conn: conn.execute(conn.q.config).fetchall())
        return {key: json.loads(value) for key, value in rows}

    def set_config(self, key: str, value: Any) -> None:
        if value is None:
            self.database.write(lambda conn: conn.execute(conn.q.unset_config, (key,)))
        else:
            text = dumps(value)
            self.database.write(lambda conn: conn.execute(conn.q.set_config, (key, text)))

    def add_stats(self, deltas: Sequence[Any]) -> None:
        if deltas:
            self.database.write(lambda conn: _add_stats(conn, deltas))

    def stats(self, queue: str, day: float) -> dict[str, Any]:
        row = self.database.read(lambda conn: conn.execute(conn.q.stats, (queue, day)).fetchone())
        found: dict[str, Any] = json.loads(row[0]) if row is not None else empty_stats()
        return found

    def prune(self, retention: Retention, limit: int = 1000) -> int:
        return self.transact(lambda txn: prune_step(txn.conn, retention, limit, txn.now))

    def top_tags(self, limit: int = 20) -> list[tuple[str, int]]:
        rows = self.database.read(
            lambda conn: conn.execute(conn.q.top_tags, (max(0, limit),)).fetchall()
        )
        return [(tag, count) for tag, count in rows]

    # --- readers -----------------------------------------------------------------------------

    def get(self, uuid: str, history: bool = False) -> Record:
        return self.database.read(lambda conn: _get(conn, uuid, history), snapshot=history)

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
        sql = self.database.connection().q.list_sql(
            tuple(name for name, value in params.items() if value is not None and name != "limit")
        )
        rows = self.database.read(lambda conn: conn.execute(sql, params).fetchall())
        page = rows[:limit]
        cursor = str(page[-1][0]) if len(rows) > limit and page else None
        return Page([record_of(row) for row in page], cursor)

    def counts(self) -> dict[str, dict[str, int]]:
        rows = self.database.read(lambda conn: conn.execute(conn.q.counts).fetchall())
        out: dict[str, dict[str, int]] = {}
        for queue, state, count in rows:
            out.setdefault(queue, {})[state] = count
        return out


# --- steps inside a transaction --------------------------------------------------------------


def _add_stats(conn: Conn, deltas: Sequence[Any]) -> None:
    """Merge each delta into its queue-day's stored statistics."""
    for delta in deltas:
        conn.execute(conn.q.lock_key, (f"stats:{delta.queue}:{delta.day!r}",))
        row = conn.execute(conn.q.stats, (delta.queue, delta.day)).fetchone()
        stored = json.loads(row[0]) if row is not None else empty_stats()
        conn.execute(conn.q.set_stats, (delta.queue, delta.day, dumps(merge_stats(stored, delta))))


def _register_worker(conn: Conn, params: dict[str, Any], now: float) -> None:
    """Upsert a worker's entry; entries unseen for STALE_WORKER_SECONDS go here (readers
    only skip them, so that reads have no side effects)."""
    conn.execute(conn.q.register_worker, {**params, "now": now})
    conn.execute(conn.q.prune_workers, {"cutoff": now - STALE_WORKER_SECONDS})


def _get(conn: Conn, uuid: str, history: bool) -> Record:
    row = conn.execute(conn.q.job, (uuid,)).fetchone()
    if row is None:
        raise JobNotFound(uuid)
    record = record_of(row)
    if history:
        record["history"] = [history_entry(*h) for h in conn.execute(conn.q.history, (row[0],))]
    return record
