"""What follows a job's state change, in the same transaction: its unique key and the jobs
that depend on it (the memory backend's ``_changed_state``).

Every step that changes a job's state calls :func:`changed_state` once (settle, rescue,
expiry, operator actions and kicks). The running set the limits count needs no bookkeeping
here: it is the ``running`` rows themselves.
"""

from __future__ import annotations

from zerog import flow
from zerog.backends.sql.rows import loads_dict, loads_list, record_of
from zerog.backends.sql.steps.batch_callbacks import EVENT, callback_of, member_ended
from zerog.backends.sql.txn import Txn, write
from zerog.model import FINAL_STATES, Record, State

FINAL = frozenset(s.value for s in FINAL_STATES)
COMPLETE = State.COMPLETE.value


def changed_state(
    txn: Txn,
    seq: int,
    uuid: str | None,
    before: str,
    after: str,
    *,
    holds_key: bool | None = None,
    has_dependents: bool | None = None,
) -> None:
    """Job ``seq`` went from ``before`` to ``after``: a final state frees its unique key and
    a retry takes it again; a completion releases its dependents, and any other final state
    (or a retry out of one) tells them. ``holds_key`` and ``has_dependents``, when the caller
    knows them (the settle reads them with the lease), spare the lookups."""
    if before == after:
        return
    if after in FINAL:
        if holds_key is not False and not _windowed(txn, seq):
            txn.conn.execute(txn.q.free_unique, (seq,))
    elif before in FINAL:
        txn.conn.execute(txn.q.hold_unique_again, (seq,))
    if has_dependents is False:
        return
    if after == COMPLETE:
        release_dependents(txn, seq, uuid)
    elif after in FINAL or before in FINAL:
        block_dependents(txn, seq, uuid, after if after in FINAL else None)


def _windowed(txn: Txn, seq: int) -> bool:
    """Whether job ``seq`` keeps its unique key for a while after it ends (flow.holds_key);
    read only for a job that may hold one."""
    (key,) = txn.conn.execute(txn.q.unique_key_of, (seq,)).fetchone()
    if not key:
        return False
    row = txn.conn.execute(txn.q.job_by_seq, (seq,)).fetchone()
    return bool(row is not None and record_of(row).get("unique_window_seconds"))


def release_dependents(txn: Txn, seq: int, uuid: str | None) -> None:
    """Job ``seq`` completed: every job that waited for it stops waiting for it, and those
    left waiting for nothing become ``waiting`` (history ``dependencies-met``)."""
    rows = txn.conn.execute(txn.q.dependents, (seq,)).fetchall()
    if not rows:
        return
    done = uuid or _uuid_of(txn, seq)
    for dependent, dependent_uuid, state, ready_at, depends, blocked_by in rows:
        before: Record = {
            "state": state,
            "ready_at": ready_at,
            "depends": loads_list(depends),
            "blocked_by": loads_dict(blocked_by),
        }
        record = dict(before)
        met = flow.dependency_done(record, done, txn.now)
        write(txn.conn, dependent, before, record)
        if met:
            event = EVENT if callback_of(txn, dependent) else "dependencies-met"
            txn.log(dependent, event, record["state"], None, done)
            txn.readied.append((dependent, dependent_uuid))
    # A complete job never changes state again: its links are spent (its record keeps them).
    txn.conn.execute(txn.q.drop_dependents, (seq,))


def block_dependents(txn: Txn, seq: int, uuid: str | None, state: str | None) -> None:
    """Job ``seq`` ended ``state`` (failed, cancelled, expired) or was retried out of it
    (None): the jobs waiting for it note it in ``blocked_by``, with a history entry."""
    rows = txn.conn.execute(txn.q.waiting_dependents, (seq,)).fetchall()
    if not rows:
        return
    blocker = uuid or _uuid_of(txn, seq)
    event = f"dependency-{state}" if state else "dependency-retried"
    for dependent, dependent_state, blocked_by in rows:
        callback = callback_of(txn, dependent)
        if callback is not None:  # a batch's callback: a member's end is not a block.
            if state is not None:
                member_ended(txn, seq, blocker, dependent, callback)
            continue
        before: Record = {"blocked_by": loads_dict(blocked_by)}
        record = dict(before)
        flow.dependency_blocked(record, blocker, state, txn.now)
        write(txn.conn, dependent, before, record)
        txn.log(dependent, event, dependent_state, None, blocker)


def _uuid_of(txn: Txn, seq: int) -> str:
    (uuid,) = txn.conn.execute(txn.q.uuid_of, (seq,)).fetchone()
    return str(uuid)
