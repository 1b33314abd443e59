"""Recurring jobs: stored recurrences, and the spawning of their jobs inside a reserve.

Spawning runs in the reserve's write transaction, so of many workers reserving from a queue at
once exactly one spawns each tick's job: the next one finds the recurrence already advanced.
"""

from __future__ import annotations

import json
from typing import Any

from zerog import recurrence as recurrences
from zerog.backends.sql.rows import dumps
from zerog.backends.sql.statements import Conn
from zerog.backends.sql.steps.put import put_row
from zerog.backends.sql.txn import Txn
from zerog.errors import JobNotFound


def spawn_due(txn: Txn, queue: str) -> None:
    """Spawn the jobs the queue's due recurrences owe and advance them; the spawned jobs are
    added to ``txn.readied``."""
    params = {"queue": queue, "now": txn.now}
    for n, doc in txn.conn.execute(txn.q.due_recurrences, params).fetchall():
        recurrence = json.loads(doc)
        for job in recurrences.spawn(recurrence, txn.now):
            if txn.conn.execute(txn.q.job_state, (job["uuid"],)).fetchone() is None:
                _placed, seq = put_row(txn, job)
                if seq is not None:
                    txn.readied.append((seq, job["uuid"]))
        _save(txn.conn, n, recurrence)


def recur(conn: Conn, recurrence: dict[str, Any]) -> None:
    """Store a recurrence; one stored again under its id keeps its place and its count."""
    params = {
        "id": recurrence["id"],
        "queue": recurrence["queue"],
        "next_at": recurrence["next_at"],
        "doc": dumps(recurrence),
    }
    conn.execute(conn.q.recur, params)


def update(conn: Conn, recurrence_id: str, changes: dict[str, Any], now: float) -> dict[str, Any]:
    """Change some keys of a recurrence (see recurrence.apply_update); JobNotFound if none."""
    row = conn.execute(conn.q.recurrence, (recurrence_id,)).fetchone()
    if row is None:
        raise JobNotFound(recurrence_id)
    recurrence: dict[str, Any] = json.loads(row[1])
    recurrences.apply_update(recurrence, json.loads(dumps(changes)), now)
    _save(conn, row[0], recurrence)
    return recurrence


def _save(conn: Conn, n: int, recurrence: dict[str, Any]) -> None:
    params = {
        "n": n,
        "queue": recurrence["queue"],
        "next_at": recurrence["next_at"],
        "doc": dumps(recurrence),
    }
    conn.execute(conn.q.save_recurrence, params)
