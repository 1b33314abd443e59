"""Quarantine: a job whose document cannot be read ends failed, its raw text kept (see
:mod:`zerog.backends.sql.unreadable`), in the transaction of whichever step met it."""

from __future__ import annotations

from typing import Any

from zerog.backends.sql.rows import dumps
from zerog.backends.sql.steps.effects import changed_state
from zerog.backends.sql.txn import Txn
from zerog.backends.sql.unreadable import quarantined_doc
from zerog.model import State

FAILED = State.FAILED.value


def quarantine_step(txn: Txn, seq: int, uuid: str, state: str, raw: Any, reason: str) -> None:
    """Fail job ``seq`` (now in ``state``) as unreadable: its document replaced by a valid one
    that keeps the raw text, its lease cleared, a ``quarantined`` history entry; its unique
    key is freed and its dependents told, as for any failure."""
    doc = dumps(quarantined_doc(raw, reason, txn.now))
    txn.conn.execute(txn.q.quarantine, {"doc": doc, "now": txn.now, "seq": seq})
    txn.log(seq, "quarantined", FAILED, None, f"unreadable record: {reason}"[:500])
    changed_state(txn, seq, uuid, state, FAILED)
