"""The steps that change a stored job's state: settle, rescue, expire and operator actions.

Each loads the few keys it reads, applies the :mod:`zerog.lifecycle` function the memory
backend applies, writes back what changed, appends the history entry, and then calls
:func:`.effects.changed_state` for what follows (unique key, dependents), all in the caller's
transaction. The beanstalk backend's record store runs these same steps.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from zerog import flow, lifecycle
from zerog.backends.sql.rows import Encoded, dumps, loads_list
from zerog.backends.sql.statements import Conn
from zerog.backends.sql.steps.dependencies import dependencies, link
from zerog.backends.sql.steps.effects import FINAL, changed_state
from zerog.backends.sql.steps.put import holder
from zerog.backends.sql.steps.quarantine import quarantine_step
from zerog.backends.sql.txn import Txn, write
from zerog.backends.sql.unreadable import Unreadable, parse_doc
from zerog.errors import DuplicateJob, ReservationLost
from zerog.lifecycle import plan_action
from zerog.model import Lease, Progress, Record, Settlement, State

RUNNING = State.RUNNING.value
EXPIRED = State.EXPIRED.value


class Held(NamedTuple):
    """A leased job as a lease holder's write reads it."""

    seq: int
    record: Record  # attempts, ttr_seconds, control (and the appended-to lists when asked).
    holds_key: bool
    has_dependents: bool


def held(conn: Conn, lease: Lease, lists: bool) -> Held:
    """The job under ``lease``; ReservationLost if the lease is no longer held."""
    params = {"uuid": lease.uuid, "token": lease.token}
    row = conn.execute(conn.q.held_with_lists if lists else conn.q.held, params).fetchone()
    if row is None:
        raise ReservationLost(lease.uuid, lease.token)
    record = {"attempts": row[1], "ttr_seconds": row[2], "control": row[3]}
    if lists:
        record["events"] = loads_list(row[6])
        record["errors"] = loads_list(row[7])
        record["samples"] = loads_list(row[8])
    return Held(row[0], record, bool(row[4]), bool(row[5]))


def appends(progress: Progress | None) -> bool:
    """Whether writing this progress needs the lists it appends to."""
    return progress is not None and bool(
        progress.events or progress.errors or progress.sample is not None
    )


def held_all(conn: Conn, leases: Sequence[Lease]) -> dict[str, Held]:
    """:func:`held` for several leases in one statement, by uuid; a lease no longer held is
    missing from it."""
    pairs = dumps([[lease.uuid, lease.token] for lease in leases])
    return {
        row[6]: Held(
            row[0],
            {"attempts": row[1], "ttr_seconds": row[2], "control": row[3]},
            bool(row[4]),
            bool(row[5]),
        )
        for row in conn.execute(conn.q.held_many, (pairs,)).fetchall()
    }


def needs_lists(settlement: Settlement) -> bool:
    """Whether writing this settlement needs the lists it appends to (see :func:`held`)."""
    return settlement.error is not None or appends(settlement.progress)


def settle_step(
    txn: Txn, lease: Lease, settlement: Settlement, encoded: Encoded, job: Held | None = None
) -> tuple[int, Record]:
    """End a run (see Backend.settle); returns the job's seq and its changed keys. ``job``:
    the job as :func:`held_all` read it, if it did."""
    if job is None:
        job = held(txn.conn, lease, needs_lists(settlement))
    deps = dependencies(txn.conn, settlement.depends)  # UnknownDependency: nothing written.
    record = dict(job.record)
    state = lifecycle.apply_settlement(record, settlement, txn.now)
    waits = settlement.queue is not None and bool(deps.pending)
    if waits:  # a pipeline step that waits for jobs in the next queue.
        record["blocked_by"] = deps.blocked
        flow.wait_for(record, list(deps.pending), txn.now)
        state = record["state"]
    write(txn.conn, job.seq, job.record, record, encoded)
    if waits:
        link(txn, deps, job.seq, lease.uuid)
    detail = settlement.error["msg"] if settlement.error else settlement.queue
    txn.log(job.seq, settlement.event, state, lease.worker, detail)
    changed_state(
        txn,
        job.seq,
        lease.uuid,
        RUNNING,
        state,
        holds_key=job.holds_key,
        has_dependents=job.has_dependents,
    )
    return job.seq, record


def settle_row(
    conn: Conn,
    lease: Lease,
    settlement: Settlement,
    encoded: Encoded,
    now: float,
    txn: Txn | None = None,
) -> tuple[int, Record]:
    """:func:`settle_step` for callers with a transaction of their own, on its connection at
    time ``now``; ``txn`` (optional) is the caller's transaction context, whose ``readied``
    list receives the jobs the step made ready besides its own (dependents released)."""
    return settle_step(txn or Txn(conn, now), lease, settlement, encoded)


def encoded_of(settlement: Settlement) -> Encoded:
    """The settlement's result and values as JSON, made before the transaction begins."""
    values = settlement.progress.values if settlement.progress else None
    return Encoded(settlement.result, values)


def settle_all(
    txn: Txn, finished: Sequence[tuple[Lease, Settlement]], encoded: Sequence[Encoded]
) -> list[str]:
    """:func:`settle_step` for each finished run (see Backend.settle_batch); returns the
    uuids whose lease was lost. Nothing is written for those: ``held`` is a step's first
    statement, and batched settlements have no dependencies to check after it."""
    lost = []
    plain = [lease for lease, settlement in finished if not needs_lists(settlement)]
    found = held_all(txn.conn, plain) if len(plain) > 1 else {}
    for (lease, settlement), json_of in zip(finished, encoded, strict=True):
        job = found.get(lease.uuid)
        if job is None and len(plain) > 1 and not needs_lists(settlement):
            lost.append(lease.uuid)  # held_all did not find it: no longer held.
            continue
        try:
            settle_step(txn, lease, settlement, json_of, job)
        except ReservationLost:
            lost.append(lease.uuid)
    return lost


def rescue_step(txn: Txn, limit: int) -> list[tuple[int, str, str]]:
    """Recover running jobs whose lease expired and expire ready jobs past their TTL (see
    Backend.rescue_expired); returns (seq, uuid, new state) of each job moved."""
    moved = []
    rows = txn.conn.execute(txn.q.to_rescue, {"now": txn.now, "limit": limit}).fetchall()
    for seq, uuid, state, attempts, max_retries, doc in rows:
        if state == RUNNING:
            try:
                errors = parse_doc(doc).get("errors") or []
            except Unreadable as exc:  # damaged: it fails, and the rescue goes on.
                quarantine_step(txn, seq, uuid, state, doc, exc.reason)
                moved.append((seq, uuid, State.FAILED.value))
                continue
            after = rescue_job(txn, seq, uuid, attempts, max_retries, errors)[0]
        else:
            expire_step(txn, seq, state, uuid)
            after = EXPIRED
        moved.append((seq, uuid, after))
    return moved


def rescue_job(
    txn: Txn, seq: int, uuid: str, attempts: int, max_retries: int, errors: list[Any]
) -> tuple[str, Record]:
    """A running job whose lease expired: back to waiting, or failed when its attempts are
    used up. Returns the new state and the keys that changed."""
    before: Record = {"attempts": attempts, "max_retries": max_retries, "errors": errors}
    record = dict(before)
    after, event = lifecycle.rescue(record, txn.now)
    write(txn.conn, seq, before, record)
    txn.log(seq, event, after)
    changed_state(txn, seq, uuid, RUNNING, after)
    return after, record


def expire_step(
    txn: Txn, seq: int, state: str = State.WAITING.value, uuid: str | None = None
) -> None:
    """A ready job (in ``state``) whose TTL passed: it ends expired and never runs."""
    record: Record = {}
    lifecycle.expire(record, txn.now)
    write(txn.conn, seq, {}, record)
    txn.log(seq, "expired", EXPIRED)
    changed_state(txn, seq, uuid, state, EXPIRED)


def move_step(txn: Txn, seq: int, uuid: str, state: str, action: str, worker: str | None) -> State:
    """Apply an operator action to a job in ``state`` (see base.plan_action). A retry out of
    a final state raises DuplicateJob if another job holds the job's unique key now."""
    move = plan_action(uuid, state, action)
    if move.to is None:
        if move.expire_lease:
            txn.conn.execute(txn.q.end_lease, (txn.now, seq))
        else:
            txn.conn.execute(txn.q.set_control, (action, seq))
        txn.log(seq, move.event, state, worker)
        return State.RUNNING
    if state in FINAL:
        _refuse_duplicate(txn.conn, seq, uuid, txn.now)
    record: Record = {}
    lifecycle.operator_move(record, move, txn.now)
    write(txn.conn, seq, {}, record)
    txn.log(seq, move.event, move.to.value, worker)
    changed_state(txn, seq, uuid, state, move.to.value)
    return move.to


def _refuse_duplicate(conn: Conn, seq: int, uuid: str, now: float) -> None:
    (key,) = conn.execute(conn.q.unique_key_of, (seq,)).fetchone()
    held_by = holder(conn, key, now)
    if held_by is not None and held_by != uuid:
        raise DuplicateJob(key, held_by)
