"""Fair share on the SQL engine: a queue with fair keys is claimed key by key in turn.

A queue is fair once a job with a ``fair_key`` was put into it (its key is in
``fair_keys``); the claim's fast path then finds nothing in it and the reserve step comes
here. Among the ready jobs of the queue's first priority, the key served least recently
(the lowest ``served`` turn) gives its oldest job; the jobs without a key share the key
``""``. Each key's next job is one lookup in the ``jobs_fair`` index, so a claim costs a
lookup per key tried, not a scan of the queue. A key with no job left waiting is forgotten
(the next put of its jobs, or its job reaching the head of the queue, registers it again).
PostgreSQL runs the fair claims of a queue one at a time (an advisory lock on the queue), so
that two workers never serve one turn twice.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from zerog import flow
from zerog.backends.sql.rows import columns_of
from zerog.backends.sql.share import sq
from zerog.backends.sql.statements import Conn
from zerog.backends.sql.steps.settle import expire_step
from zerog.backends.sql.txn import Txn
from zerog.model import Record

MayRun = Callable[[Sequence[str]], bool]
Picked = tuple[tuple[Any, ...], Record]


def served(conn: Conn, queue: str, doc: Any) -> None:
    """The job of ``doc`` was claimed from fair queue ``queue``: its key had its turn."""
    key = flow.fair_key_of(_record(doc))
    conn.execute(sq(conn)["serve_key"], {"queue": queue, "key": key})


def pick(txn: Txn, queue: str, may_run: MayRun | None) -> Picked | None:
    """The job a fair claim takes from ``queue`` (its row and columns), expiring on the way
    those past their TTL; None when no key's first job may run (the caller then takes the
    first job the limits allow, as in a queue without keys)."""
    conn = txn.conn
    conn.execute(conn.q.lock_key, ("fair:" + queue,))
    head = conn.execute(conn.q.next_ready_plain, {"queue": queue, "now": txn.now}).fetchone()
    if head is None:
        return None
    priority = columns_of(head)["priority"]
    conn.execute(sq(conn)["add_fair_key"], (queue, flow.fair_key_of(_record(head[-1]))))
    keys = conn.execute(sq(conn)["fair_keys"], (queue,)).fetchall()
    for turn in dict.fromkeys(served for _key, served in keys):
        tied = [key for key, served in keys if served == turn]  # never served: by oldest job.
        found = [p for p in (_first_of(txn, queue, k, priority, may_run) for k in tied) if p]
        if found:
            return min(found, key=lambda picked: int(picked[0][0]))
    return None


def _first_of(
    txn: Txn, queue: str, key: str, priority: int, may_run: MayRun | None
) -> Picked | None:
    """Key ``key``'s first ready job at ``priority`` if it may run; forgets a key with no
    job left waiting."""
    conn, q = txn.conn, sq(txn.conn)
    params = {"queue": queue, "key": key, "priority": priority, "now": txn.now}
    while True:
        row = conn.execute(q["first_unkeyed" if not key else "first_of_key"], params).fetchone()
        if row is None:
            if not key or not conn.execute(q["key_queued"], params).fetchone()[0]:
                conn.execute(q["forget_key"], (queue, key))
            return None
        columns = columns_of(row)
        if may_run is not None and not may_run(throttles_of(row[-1])):
            return None
        if columns["expires_at"] is not None and columns["expires_at"] <= txn.now:
            expire_step(txn, row[0], columns["state"])
            continue
        return row, columns


def throttles_of(doc: Any) -> list[str]:
    """The throttles a job's document names."""
    return list(_record(doc).get("throttles") or [])


def _record(doc: Any) -> Record:
    """A job's document as read (JSON text on SQLite, decoded on PostgreSQL); {} when it
    cannot be read (the claim's own reading of it quarantines it)."""
    if isinstance(doc, dict):
        return doc
    try:
        found = json.loads(doc)
    except (TypeError, ValueError):
        return {}
    return found if isinstance(found, dict) else {}
