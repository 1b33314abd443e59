"""The SQL record store's steps that change jobs, each inside the caller's transaction.

Each runs the shared SQL engine's own step (:mod:`zerog.backends.sql.steps`, so a record
changes here exactly as on ``sqlite://`` or ``postgresql://``), then the entry
bookkeeping: the job's own entry, new entries for the jobs the step made ready
(``txn.readied``), and the :class:`~._records.Effects` left for beanstalkd after the commit.
"""

from __future__ import annotations

from collections.abc import Sequence

from zerog.backends.beanstalk._records import (
    Altered,
    Effects,
    Enter,
    EntryInfo,
    Inserted,
    Moved,
    Rank,
    Settled,
)
from zerog.backends.beanstalk._sql_entries import (
    READY,
    bq,
    drop_entry,
    enter_new,
    enter_readied,
    info_of,
    set_entry,
)
from zerog.backends.beanstalk._sql_limits import unpark
from zerog.backends.sql.rows import Encoded
from zerog.backends.sql.steps.alter import alter_step
from zerog.backends.sql.steps.delete import delete_step
from zerog.backends.sql.steps.prune import prune_step
from zerog.backends.sql.steps.put import put_row
from zerog.backends.sql.steps.recur import spawn_due
from zerog.backends.sql.steps.settle import move_step, settle_step
from zerog.backends.sql.txn import Txn
from zerog.errors import DuplicateJob, JobNotFound
from zerog.model import Change, Lease, Placed, Record, Retention, Settlement, State

SCHEDULED = State.SCHEDULED.value
WAITING = State.WAITING.value
DEPENDS = State.DEPENDS.value


def insert(txn: Txn, records: Sequence[Record], enter: Enter) -> Inserted:
    """Store new jobs (Backend.put: dependencies, unique keys, debounce); each one stored
    ready gets an entry."""
    placed: list[Placed] = []
    first_due: float | None = None
    for record in records:
        done, seq = put_row(txn, record)  # ValueError for a uuid that exists, before enter().
        placed.append(done)
        if seq is None:
            continue
        if done.outcome == "put" and not record.get("depends") and record["state"] in READY:
            due_at = enter_as_put(txn, seq, record, enter)  # stored as given: no read back.
        else:
            due_at = enter_new(txn, seq, enter).due_at
        if due_at is not None and (first_due is None or due_at < first_due):
            first_due = due_at
    return Inserted(placed, first_due)


def enter_as_put(txn: Txn, seq: int, record: Record, enter: Enter) -> float | None:
    """Give a job stored ready exactly as ``record`` says its entry; returns when it is due
    if its entry is delayed."""
    ready_at = record["ready_at"]
    delay = ready_at - txn.now
    info = EntryInfo(
        record["uuid"],
        record["queue"],
        record["priority"],
        record["ttr_seconds"],
        None,
        delay if delay > 0 else 0.0,
    )
    set_entry(txn.conn, seq, enter(info), ready_at, delay)
    return ready_at if delay > 0 else None


def settle(
    txn: Txn, lease: Lease, settlement: Settlement, encoded: Encoded, enter: Enter
) -> Settled:
    """End a run (Backend.settle). A pipeline step gives the job a new entry in its next
    queue's tube (or none while it waits in depends); released dependents get theirs."""
    seq, record = settle_step(txn, lease, settlement, encoded)
    state = record["state"]
    row = txn.conn.execute(bq(txn.conn).settled_row, (seq,)).fetchone()
    info = info_of(row)
    delay = max(0.0, record["ready_at"] - txn.now)
    bid, replaced = info.bid, None
    if settlement.queue is not None:  # its entry is in the tube of the queue it left.
        replaced = info.bid
        bid = enter_new(txn, seq, enter).bid  # ready, or held back while it is in depends.
    elif state == SCHEDULED:
        set_entry(txn.conn, seq, bid, record["ready_at"], delay)
    stale, ready = enter_readied(txn, enter)
    if state == WAITING:
        ready.append((info.queue, info.priority, seq))
    kick, unparked = unpark(txn, any_parked=bool(row[8]))
    return Settled(
        State(state),
        bid,
        info.queue,
        info.priority,
        info.ttr_seconds,
        delay,
        replaced,
        Effects(tuple(stale), tuple(kick)),
        (*ready, *unparked),
    )


def outranked(txn: Txn, ready: Sequence[Rank], uuid: str, queues: Sequence[str]) -> bool:
    """Whether a reserve from ``queues`` would take one of the ``ready`` jobs before job
    ``uuid`` (an entry reserved before the settlement that made them ready)."""
    row = txn.conn.execute(bq(txn.conn).entry_row, (uuid,)).fetchone() if ready else None
    if row is None or row[3] not in queues:
        return False
    order = {queue: index for index, queue in enumerate(queues)}
    mine = (order[row[3]], row[4], row[0])
    return any(
        (order[queue], priority, seq) < mine
        for queue, priority, seq in ready
        if queue in order and seq != row[0]
    )


def after_move(txn: Txn, seq: int, state: State, enter: Enter) -> Moved:
    """A job an operator or the rescue moved to ``state``: one sent back to waiting gets a
    deliverable entry (ready now; ``enter`` may revive its old one); any other forgets a
    delay, and keeps its old entry's id for the caller to dispose of."""
    info = info_of(txn.conn.execute(bq(txn.conn).entry_row_by_seq, (seq,)).fetchone())
    new_bid = info.bid
    if state == State.WAITING:
        new_bid = enter(info)
        set_entry(txn.conn, seq, new_bid, None, 0.0)
    elif state != State.RUNNING:
        txn.conn.execute(bq(txn.conn).forget_delay, (seq,))
    return Moved(info.uuid, state, info.bid, new_bid, info.priority)


def act(txn: Txn, uuid: str, action: str, worker: str | None, enter: Enter) -> Moved:
    """Backend.act (a timeout only ends the lease: the rescue gives the job its entry)."""
    row = txn.conn.execute(bq(txn.conn).entry_row, (uuid,)).fetchone()
    if row is None:
        raise JobNotFound(uuid)
    state = move_step(txn, row[0], uuid, row[2], action, worker)
    return after_move(txn, row[0], state, enter)


def kick(
    txn: Txn, rows: Sequence[tuple[int, str, str]], enter: Enter
) -> tuple[list[Moved], DuplicateJob | None]:
    """Retry failed jobs (seq, uuid, state), oldest first; each retry is one act, so those
    made before one is refused (its unique key is held again) stay made, as on every
    backend: the refusal is returned for the caller to raise after the commit."""
    moved: list[Moved] = []
    for seq, uuid, state in rows:
        try:
            new_state = move_step(txn, seq, uuid, state, "retry", None)
        except DuplicateJob as exc:
            return moved, exc
        moved.append(after_move(txn, seq, new_state, enter))
    return moved, None


def alter(txn: Txn, uuid: str, change: Change, worker: str | None, enter: Enter) -> Altered:
    """Backend.alter, and the job's entry after it. An entry's tube, priority and delay are
    fixed, so a job moved, re-prioritised or rescheduled gets a new one (ready, or held back
    in depends); so does a job made to depend (its ready entry would be delivered); one made
    ready by an undepend has its held-back entry kicked. A paused job that moved keeps none:
    resume gives it one. Every entry left behind is stale."""
    before = txn.conn.execute(bq(txn.conn).entry_row, (uuid,)).fetchone()
    record = alter_step(txn, uuid, change, worker)  # JobNotFound when before is None.
    seq, old_bid = before[0], before[7]
    readied = any(s == seq for s, _uuid in txn.readied)
    stale = enter_readied(txn, enter)[0]  # this job too, when it left depends.
    placed = (record["queue"], record["priority"]) != (before[3], before[4])
    placed = placed or change.delay_seconds is not None  # a new due time: a new delay.
    left = before[2] in READY and record["state"] == DEPENDS
    if not readied and (placed or left or old_bid is None):
        entered = enter_new(txn, seq, enter)
        if entered.bid is None and old_bid is not None:
            drop_entry(txn.conn, seq)
        if old_bid is not None and entered.bid != old_bid:
            stale.append(old_bid)
    return Altered(record, Effects(tuple(stale)))


def spawn(txn: Txn, queue: str, enter: Enter) -> tuple[dict[str, float], Effects]:
    """Spawn the due recurring jobs of ``queue`` unless it is paused (as a reserve would not
    look at it), each with an entry; returns when each queue's next recurrence is due."""
    if queue not in {name for (name,) in txn.conn.execute(txn.q.paused_queues)}:
        spawn_due(txn, queue)
    stale = enter_readied(txn, enter)[0]
    return recurrences_due(txn), Effects(tuple(stale))


def recurrences_due(txn: Txn) -> dict[str, float]:
    """When each queue's next recurrence is due."""
    return dict(txn.conn.execute(bq(txn.conn).recurrences_due).fetchall())


def prune(txn: Txn, retention: Retention, limit: int) -> tuple[int, list[tuple[int, str]]]:
    """Backend.prune; the pruned jobs' entries (id, uuid), which a trigger collected as their
    rows went, are taken for the caller to delete from beanstalkd."""
    count = prune_step(txn.conn, retention, limit, txn.now)
    return count, [(bid, uuid) for bid, uuid in txn.conn.execute(bq(txn.conn).take_gone).fetchall()]


def delete(txn: Txn, uuid: str) -> tuple[bool, list[tuple[int, str]]]:
    """Backend.delete; the entries the job had left (normally none: a finished job's goes
    when it finishes), which the trigger collected as its row went, are taken for the caller
    to delete from beanstalkd."""
    deleted = delete_step(txn, uuid)
    return deleted, [
        (bid, uuid) for bid, uuid in txn.conn.execute(bq(txn.conn).take_gone).fetchall()
    ]
