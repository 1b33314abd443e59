"""Reserving: the next ready job of the first queue that has one.

The common case costs what it did before recurring jobs and limits existed: ``next_ready``
finds the job only when the queue is not paused, owes no recurring job and no limit is set
(three lookups inside the one statement). When it finds nothing, ``flow_probe`` tells why,
and only then are recurring jobs spawned or running jobs counted against the limits.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from zerog import flow, lifecycle
from zerog.backends.sql.rows import columns_of, loads_list
from zerog.backends.sql.share import Rates
from zerog.backends.sql.statements import Conn
from zerog.backends.sql.steps import fair
from zerog.backends.sql.steps.recur import spawn_due
from zerog.backends.sql.steps.settle import expire_step
from zerog.backends.sql.txn import Txn
from zerog.model import Record, State

RUNNING = State.RUNNING.value
SCAN_BATCH = 100  # ready jobs read at a time when looking past throttled ones.
SCAN_MAX = 1000  # a reserve looks at most this far down a queue for a job whose limits allow it.

Taken = tuple[str, Record]
"""The document of the job taken, and its (updated) columns."""


def reserve_step(txn: Txn, queues: Sequence[str], worker: str) -> Taken | None:
    """Take the next ready job of the first queue in order that has one (see Backend.reserve)."""
    for queue in queues:
        taken = _first_ready(txn, queue, worker, txn.q.next_ready)
        if taken is None:
            taken = _take_closer(txn, queue, worker)
        if taken is not None:
            return taken
    return None


def reserve_batch(txn: Txn, queues: Sequence[str], worker: str, count: int) -> list[Taken]:
    """Up to ``count`` jobs, taken as that many :func:`reserve_step` calls would take them.
    On the fast path the first queue's ready jobs are read in one statement; whatever that
    does not find (a paused or limited queue, a due recurrence, the next queues) is looked
    for one job at a time."""
    taken: list[Taken] = []
    rest = queues
    if count > 1 and queues:
        params = {"queue": queues[0], "now": txn.now, "limit": count}
        rows = txn.conn.execute(txn.q.next_ready, params).fetchall()
        for row in rows:
            columns = columns_of(row)
            if columns["expires_at"] is not None and columns["expires_at"] <= txn.now:
                expire_step(txn, row[0], columns["state"])
                continue
            taken.append(start(txn, row, columns, worker))
        if 0 < len(rows) < count:  # the fast path's conditions held, and the queue is empty:
            rest = queues[1:]  # looking there again one job at a time would find nothing.
    while len(taken) < count:
        one = reserve_step(txn, rest, worker)
        if one is None:
            break
        taken.append(one)
    return taken


def _first_ready(txn: Txn, queue: str, worker: str, sql: str) -> Taken | None:
    """The first ready job ``sql`` finds, expiring those past their TTL on the way."""
    params = {"queue": queue, "now": txn.now, "limit": 1}
    while True:
        row = txn.conn.execute(sql, params).fetchone()
        if row is None:
            return None
        columns = columns_of(row)
        if columns["expires_at"] is not None and columns["expires_at"] <= txn.now:
            expire_step(txn, row[0], columns["state"])
            continue
        return start(txn, row, columns, worker)


def _take_closer(txn: Txn, queue: str, worker: str) -> Taken | None:
    """The slow path: spawn the queue's due recurring jobs, then take a job its limits (and
    rate limits) allow, in a fair queue from the key whose turn it is."""
    params = {"queue": queue, "now": txn.now}
    paused, due, limited, is_fair = txn.conn.execute(txn.q.flow_probe, params).fetchone()
    if paused or not (due or limited or is_fair):
        return None
    if due:
        spawn_due(txn, queue)
    limits = Limits(txn.conn, txn.now) if limited else None
    if limits is not None and limits.full(flow.QUEUE_LIMIT + queue):
        return None
    if is_fair:
        return _take_fair(txn, queue, worker, limits)
    if limits is None:
        return _first_ready(txn, queue, worker, txn.q.next_ready_plain)
    return _first_allowed(txn, queue, worker, limits)


def _take_fair(txn: Txn, queue: str, worker: str, limits: Limits | None) -> Taken | None:
    """A fair queue's next job (see :mod:`.fair`); the first job the limits allow when no
    key's first one may run. The key served has had its turn."""
    picked = fair.pick(txn, queue, None if limits is None else limits.may_run)
    if picked is not None:
        taken: Taken | None = start(txn, *picked, worker)
        if limits is not None and taken is not None:
            limits.started(queue, fair.throttles_of(taken[0]))
    elif limits is None:
        taken = _first_ready(txn, queue, worker, txn.q.next_ready_plain)
    else:
        taken = _first_allowed(txn, queue, worker, limits)
    if taken is not None:
        fair.served(txn.conn, queue, taken[0])
    return taken


def _first_allowed(txn: Txn, queue: str, worker: str, limits: Limits) -> Taken | None:
    """The first ready job whose throttles have room, expiring on the way the jobs past their
    TTL that could run; throttled jobs stay waiting. Looks at most SCAN_MAX jobs down."""
    after = {"priority": -(2**63), "seq": 0}
    for _ in range(SCAN_MAX // SCAN_BATCH):
        params = {"queue": queue, "now": txn.now, "limit": SCAN_BATCH, **after}
        rows = txn.conn.execute(txn.q.ready_scan, params).fetchall()
        for seq, _priority, expires_at, throttles in rows:
            if not limits.may_run(loads_list(throttles)):
                continue
            if expires_at is not None and expires_at <= txn.now:
                expire_step(txn, seq)
                continue
            row = txn.conn.execute(txn.q.job_by_seq, (seq,)).fetchone()
            limits.started(queue, loads_list(throttles))
            return start(txn, row, columns_of(row), worker)
        if len(rows) < SCAN_BATCH:
            return None
        after = {"priority": rows[-1][1], "seq": rows[-1][0]}
    return None


def start(txn: Txn, row: tuple[Any, ...], columns: Record, worker: str) -> Taken:
    """Make a ready job (its ``SELECT *`` row and its columns) running under a new lease."""
    lifecycle.start_run(columns, worker, txn.now)  # it changes columns only.
    txn.defer(txn.q.start_run, {**columns, "seq": row[0]})
    txn.log(row[0], "reserved", RUNNING, worker, f"attempt {columns['attempts']}")
    return row[-1], columns


class Limits:
    """The limits set, and how many running jobs count against each (read once, lazily);
    with ``now``, the rate limits too (:class:`..share.Rates`)."""

    def __init__(self, conn: Conn, now: float | None = None) -> None:
        self._conn = conn
        # Claims under limits count the running jobs one at a time (PostgreSQL: a lock of its
        # own, held to COMMIT; SQLite: its writer's lock).
        conn.execute(conn.q.lock_key, ("limits",))
        self.maximums: dict[str, int] = dict(conn.execute(conn.q.limits).fetchall())
        self._running: Counter[str] | None = None
        self.rates = None if now is None else Rates(conn, now)

    def full(self, name: str) -> bool:
        """Whether limit ``name`` has as many running jobs as it allows, or (rate limit)
        has had as many starts in its window."""
        maximum = self.maximums.get(name)
        if maximum is not None and self._counts()[name] >= maximum:
            return True
        return self.rates is not None and self.rates.full(name)

    def may_run(self, throttles: Sequence[str]) -> bool:
        """Whether a job with these throttles may start now (its queue's limit aside)."""
        return not any(self.full(name) for name in throttles)

    def started(self, queue: str, throttles: Sequence[str]) -> None:
        """A job of ``queue`` with these throttles starts: log it against its rate limits."""
        if self.rates is not None:
            self.rates.started([flow.QUEUE_LIMIT + queue, *throttles])

    def _counts(self) -> Counter[str]:
        if self._running is None:
            self._running = Counter()
            for queue, throttles in self._conn.execute(self._conn.q.running_throttles):
                job = {"queue": queue, "throttles": loads_list(throttles)}
                self._running.update(set(flow.limit_names(job)))
        return self._running
