"""The claim of a delivered entry on the SQL record store: what the entry is for, and the
start of the job's run when it may run (see :meth:`._records.RecordStore.claim`).

One statement reads the job, its entry and what else decides (its queue paused, any limit
set, the job parked), so that a busy worker's claim costs what the reserve of the store's own
backend (``sqlite://``, ``postgresql://``) costs; the limits are counted only when some limit
is set.
"""

from __future__ import annotations

from typing import Any

from zerog.backends.beanstalk._records import Claim, Verdict
from zerog.backends.beanstalk._sql_entries import READY, bq, set_entry
from zerog.backends.beanstalk._sql_limits import refusal
from zerog.backends.beanstalk._sql_rates import rate_wait
from zerog.backends.sql.rows import columns_of, with_flow_keys
from zerog.backends.sql.steps.quarantine import quarantine_step
from zerog.backends.sql.steps.reserve import start
from zerog.backends.sql.steps.settle import expire_step, rescue_job
from zerog.backends.sql.txn import Txn
from zerog.backends.sql.unreadable import Unreadable, parse_doc
from zerog.model import Record, State

RUNNING = State.RUNNING.value
BURIED = (State.FAILED.value, State.PAUSED.value)
EXTRA = 5  # columns claim_row adds after the job's: bid, due_at, paused, limited, parked.


def claim_step(txn: Txn, uuid: str, bid: int, worker: str) -> Claim:
    """Decide what entry ``bid`` of job ``uuid`` is for, starting the job's run if it may."""
    row = txn.conn.execute(bq(txn.conn).claim_row, (uuid,)).fetchone()
    if row is None or row[-EXTRA] not in (None, bid):
        return Claim(Verdict.STALE)
    columns = columns_of(row[:-EXTRA])
    priority = columns["priority"]
    if row[-3]:  # its queue is paused.
        return Claim(Verdict.QUEUE_PAUSED, priority=priority)
    if columns["state"] == RUNNING:
        if columns["lease_expires_at"] > txn.now:
            left = columns["lease_expires_at"] - txn.now
            return Claim(Verdict.HELD, delay_seconds=left, priority=priority)
        _rescue(txn, row, columns)
        return claim_step(txn, uuid, bid, worker)  # read again: the rescue changed the job.
    if columns["state"] in READY:
        return _claim_ready(txn, row, columns, bid, worker)
    verdict = Verdict.BURY if columns["state"] in BURIED else Verdict.DONE
    return Claim(verdict, priority=priority)


def _rescue(txn: Txn, row: tuple[Any, ...], columns: Record) -> None:
    """A running job whose lease expired, found by the entry beanstalkd gave back: rescued as
    rescue_expired would (waiting again, or failed when out of attempts; quarantined when its
    document cannot be read)."""
    doc = row[-EXTRA - 1]
    try:
        errors = parse_doc(doc).get("errors") or []
    except Unreadable as exc:
        quarantine_step(txn, row[0], row[1], columns["state"], doc, exc.reason)
        return
    rescue_job(txn, row[0], row[1], columns["attempts"], columns["max_retries"], errors)


def _claim_ready(txn: Txn, row: tuple[Any, ...], columns: Record, bid: int, worker: str) -> Claim:
    """A ready job's delivered entry ``bid``: the job expires, waits until due, is refused by
    its limits, or starts."""
    seq, known_bid, due_at = row[0], row[-EXTRA], row[-EXTRA + 1]
    limited, parked = row[-2], row[-1]
    doc = row[-EXTRA - 1]
    priority = columns["priority"]
    if columns["expires_at"] is not None and columns["expires_at"] <= txn.now:
        expire_step(txn, seq, columns["state"], row[1])
        return Claim(Verdict.DONE, priority=priority)
    if columns["ready_at"] > txn.now:
        delay = columns["ready_at"] - txn.now
        set_entry(txn.conn, seq, bid, columns["ready_at"], delay)  # released with this delay.
        return Claim(Verdict.NOT_DUE, delay_seconds=delay, priority=priority)
    try:
        record = parse_doc(doc)
    except Unreadable as exc:  # damaged: it fails, and its entry goes.
        quarantine_step(txn, seq, row[1], columns["state"], doc, exc.reason)
        return Claim(Verdict.DONE, priority=priority)
    if limited:
        refused = refusal(txn, seq, columns["queue"], record.get("throttles") or ())
        if refused is not None:
            return Claim(refused, priority=priority)
        waits = rate_wait(txn, seq, bid, columns["queue"], record.get("throttles") or ())
        if waits is not None:
            return Claim(waits.verdict, delay_seconds=waits.delay_seconds, priority=priority)
    start(txn, row[:-EXTRA], columns, worker)  # it changes columns only.
    if known_bid is None or due_at is not None:  # adopt the entry; it is no longer delayed.
        set_entry(txn.conn, seq, bid, None, 0.0)
    if parked:
        txn.conn.execute(bq(txn.conn).unpark_job, (seq,))
    record.update(columns)
    return Claim(Verdict.CLAIMED, record=with_flow_keys(record), priority=priority)
