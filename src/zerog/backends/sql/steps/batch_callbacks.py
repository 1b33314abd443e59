"""A batch's callback job in the SQL engine: it waits in ``depends`` for its members to *end*
(complete, failed, cancelled, expired), and becomes ready once, in the transaction that ends
its last member (see :func:`zerog.flow.counts_any_end`).

A member is linked to its callback as any dependency is (a ``deps`` row); what differs is
that a member's failure releases it like a completion instead of blocking it. Dropping the
member from the callback's ``depends`` and its ``deps`` row in the member's own settle makes
the count exact under crashes and races: each member ends in one transaction, and a member
already dropped (a retried one that ends again) changes nothing.
"""

from __future__ import annotations

from zerog import flow
from zerog.backends.sql.rows import record_of
from zerog.backends.sql.txn import Txn, write
from zerog.model import Record

EVENT = "batch-done"
"""The callback's history entry when its last member ended."""


def callback_of(txn: Txn, seq: int) -> Record | None:
    """The record of job ``seq`` when it is a batch's callback, else None."""
    row = txn.conn.execute(txn.q.job_by_seq, (seq,)).fetchone()
    if row is None:
        return None
    record = record_of(row)
    return record if flow.counts_any_end(record) else None


def member_ended(txn: Txn, member_seq: int, member: str, seq: int, callback: Record) -> None:
    """Member ``member`` (job ``member_seq``) ended: the callback ``seq`` stops waiting for
    it, and is readied when it waits for nothing more."""
    before: Record = {
        "state": callback["state"],
        "ready_at": callback.get("ready_at"),
        "depends": list(callback.get("depends") or ()),
        "blocked_by": dict(callback.get("blocked_by") or {}),
    }
    record = dict(before)
    met = flow.dependency_done(record, member, txn.now)
    write(txn.conn, seq, before, record)
    txn.conn.execute(txn.q.drop_dependency, (member_seq, seq))
    if met:
        txn.log(seq, EVENT, record["state"], None, member)
        txn.readied.append((seq, str(callback["uuid"])))
