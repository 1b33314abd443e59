"""Changing a stored job (Backend.alter): priority, queue, tags, tracking and dependencies."""

from __future__ import annotations

from zerog import flow, lifecycle
from zerog.backends.sql.rows import record_of
from zerog.backends.sql.steps.dependencies import (
    Dependencies,
    dependencies,
    link,
    refuse_cycles,
    unlink,
)
from zerog.backends.sql.txn import Txn, write
from zerog.errors import InvalidTransition, JobNotFound
from zerog.model import FINAL_STATES, QUEUED_STATES, Change, Record, State

QUEUED = frozenset(s.value for s in QUEUED_STATES)
FINAL = frozenset(s.value for s in FINAL_STATES)
DEPENDS = State.DEPENDS.value


def alter_step(txn: Txn, uuid: str, change: Change, worker: str | None) -> Record:
    """Apply ``change`` to job ``uuid`` (see Backend.alter); returns the record after it."""
    row = txn.conn.execute(txn.q.job_for_update, (uuid,)).fetchone()
    if row is None:
        raise JobNotFound(uuid)
    seq, before = row[0], record_of(row)
    if change.moves_job and before["state"] not in QUEUED:
        raise InvalidTransition(
            uuid, before["state"], "change the queue, priority or dependencies of"
        )
    if change.delay_seconds is not None and before["state"] not in lifecycle.RESCHEDULABLE:
        raise InvalidTransition(uuid, before["state"], "reschedule")
    added = dependencies(txn.conn, change.depend)
    refuse_cycles(txn.conn, uuid, added.pending)
    record = dict(before)
    _placement(txn, seq, record, change, worker)
    _labels(txn, seq, record, change)
    if change.depend or change.undepend or change.undepend_all:
        _dependencies(txn, seq, record, change, added, worker)
    write(txn.conn, seq, before, record)
    if before["state"] == DEPENDS and record["state"] != DEPENDS:
        txn.readied.append((seq, uuid))
    return record_of(txn.conn.execute(txn.q.job_by_seq, (seq,)).fetchone())


def _placement(txn: Txn, seq: int, record: Record, change: Change, worker: str | None) -> None:
    if change.priority is not None and change.priority != record["priority"]:
        detail = f"{record['priority']} -> {change.priority}"
        record["priority"] = change.priority
        txn.log(seq, "priority", record["state"], worker, detail)
    if change.queue is not None and change.queue != record["queue"]:
        detail = f"{record['queue']} -> {change.queue}"
        record["queue"] = change.queue
        txn.log(seq, "moved", record["state"], worker, detail)
    if change.delay_seconds is not None:
        detail = lifecycle.reschedule(record, change.delay_seconds, txn.now)
        txn.log(seq, "rescheduled", record["state"], worker, detail)
    record["updated_at"] = txn.now


def _labels(txn: Txn, seq: int, record: Record, change: Change) -> None:
    tags = [t for t in record["tags"] if t not in change.remove_tags]
    record["tags"] = list(dict.fromkeys([*tags, *change.add_tags]))
    txn.conn.executemany(txn.q.remove_tag, [(tag, seq) for tag in change.remove_tags])
    txn.conn.executemany(txn.q.add_tag, [(tag, seq) for tag in record["tags"]])
    if change.tracked is not None:
        record["tracked"] = change.tracked
        txn.conn.execute(txn.q.track if change.tracked else txn.q.untrack, (seq,))


def _dependencies(
    txn: Txn, seq: int, record: Record, change: Change, added: Dependencies, worker: str | None
) -> None:
    """Drop and add dependencies as the memory backend's ``_alter_dependencies`` does."""
    uuid, before = record["uuid"], record["state"]
    depends = list(record.get("depends") or ())
    dropped = depends if change.undepend_all else list(change.undepend)
    pending = [d for d in depends if d not in dropped]
    pending = list(dict.fromkeys([*pending, *added.pending]))
    blocked = dict(record.get("blocked_by") or {})
    for dependency in dropped:
        unlink(txn, dependency, seq, uuid)
        blocked.pop(dependency, None)
    link(txn, added, seq, uuid, once=True)
    for dependency in added.pending:
        if dependency in added.blocked:
            blocked[dependency] = added.blocked[dependency]
    record["blocked_by"] = blocked
    flow.wait_for(record, pending, txn.now)
    if added.pending:
        txn.log(seq, "depends", record["state"], worker, ", ".join(added.pending))
    if dropped:
        txn.log(seq, "undepends", record["state"], worker, ", ".join(dropped))
    if before == DEPENDS and record["state"] != before:
        txn.log(seq, "dependencies-met", record["state"], worker)
