"""Deleting one finished job and everything stored about it (Backend.delete), in the caller's
transaction: the deletes of retention (:mod:`.prune`), for one job an operator chose."""

from __future__ import annotations

import json

from zerog.backends.sql.steps.prune import DELETES
from zerog.backends.sql.txn import Txn
from zerog.errors import InvalidTransition
from zerog.model import FINAL_STATES

FINAL = frozenset(state.value for state in FINAL_STATES)


def delete_step(txn: Txn, uuid: str) -> bool:
    """Delete a finished job, its history and its side rows; False when there is none.
    InvalidTransition while it is not finished, or while a job in ``depends`` waits for it."""
    conn = txn.conn
    row = conn.execute(txn.q.job_state, (uuid,)).fetchone()
    if row is None:
        return False
    seq, state = row[0], row[1]
    waited = conn.execute(txn.q.waiting_dependents, (seq,)).fetchone() is not None
    if state not in FINAL or waited:
        raise InvalidTransition(uuid, state, "delete")
    seqs = json.dumps([seq])
    for name in DELETES:
        conn.execute(getattr(txn.q, name), (seqs,))
    return True
