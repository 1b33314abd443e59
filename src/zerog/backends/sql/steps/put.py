"""Putting new jobs: dependencies, unique keys and debounce decided in the put's transaction.

A job with none of those is one INSERT (plus its tags and its history entry), as before them.
"""

from __future__ import annotations

import json

from zerog import flow
from zerog.backends.sql.rows import dumps, record_of
from zerog.backends.sql.share import register_fair_key
from zerog.backends.sql.statements import COLUMN_SET, Conn
from zerog.backends.sql.steps.dependencies import NONE, Dependencies, dependencies, link
from zerog.backends.sql.txn import Txn, log_entry
from zerog.errors import DuplicateJob
from zerog.model import Placed, Record, State

HOLDS_KEY = frozenset(s.value for s in flow.HOLDS_KEY)
_LISTS = ("dependents", "tags", "throttles")  # keys a put gives an empty list when missing.


def put_row(txn: Txn, record: Record) -> tuple[Placed, int | None]:
    """Store a new job (see Backend.put); returns what was done and the job's seq (None when
    nothing was stored: merged into a unique job, or a debounced push skipped)."""
    if not (record.get("depends") or record.get("unique_key") or record.get("_debounce")):
        return Placed(record["uuid"]), store_new(txn, record, NONE)
    uuid = record["uuid"]
    if txn.conn.execute(txn.q.job_state, (uuid,)).fetchone() is not None:
        raise ValueError(f"a job with id {uuid!r} exists")
    deps = dependencies(txn.conn, record.get("depends") or (), flow.counts_any_end(record))
    held = holder(txn.conn, record.get("unique_key"), txn.now)
    if held is not None:
        if record.get("_on_duplicate") == "refuse":
            raise DuplicateJob(record["unique_key"], held)
        return Placed(held, "merged"), None
    outcome = "put"
    if record.get("_debounce") is not None:
        outcome, record = _debounced(txn, record)
        if outcome == "skipped":
            return Placed(record["uuid"], outcome), None
    return Placed(uuid, outcome), store_new(txn, record, deps)


def holder(conn: Conn, key: str | None, now: float) -> str | None:
    """The job holding a unique key at ``now``, if any: one not finished, or finished within
    its idempotency window (its row is kept then, see effects.changed_state). The key's lock
    is taken first and held to the end of the transaction, which may then take the key (see
    ``lock_key``)."""
    if not key:
        return None
    conn.execute(conn.q.lock_key, (f"unique:{key}",))
    row = conn.execute(conn.q.unique_holder, (key,)).fetchone()
    if row is None:
        return None
    if row[1] in HOLDS_KEY:
        return str(row[0])
    found = conn.execute(conn.q.job, (row[0],)).fetchone()
    return str(row[0]) if found is not None and flow.holds_key(record_of(found), now) else None


def _debounced(txn: Txn, record: Record) -> tuple[str, Record]:
    """Apply the debounce plan: (``skipped``, a record naming the pending job), or the outcome
    and the record to store (scheduled at the window's end when delayed)."""
    plan = record["_debounce"]
    txn.conn.execute(txn.q.lock_key, (f"debounce:{plan['key']}",))
    row = txn.conn.execute(txn.q.debounce_entry, (plan["key"],)).fetchone()
    outcome, delay, entry = flow.debounce_plan(
        None if row is None else json.loads(row[0]),
        txn.now,
        plan["seconds"],
        plan["always_delay"],
    )
    if outcome == "skipped":
        return outcome, {"uuid": entry["uuid"]}
    txn.conn.execute(txn.q.set_debounce, (plan["key"], dumps({**entry, "uuid": record["uuid"]})))
    if delay > 0:
        record = {**record, "state": State.SCHEDULED.value, "ready_at": txn.now + delay}
    return outcome, record


def store_new(txn: Txn, record: Record, deps: Dependencies) -> int:
    """Insert the job waiting for ``deps.pending`` (in ``depends`` if any), link it to them,
    and give it its unique key and list marks; returns its seq. ``record`` is not changed."""
    stored = {**record, "blocked_by": dict(deps.blocked)}
    for key in _LISTS:
        if key not in stored:
            stored[key] = []
    if deps.pending or stored["state"] == State.DEPENDS.value:
        flow.wait_for(stored, list(deps.pending), txn.now)
    else:  # what wait_for does with nothing to wait for, without its calls (the hot path).
        stored["depends"], stored["updated_at"] = [], txn.now
    seq = insert_row(txn.conn, stored, txn.now)
    link(txn, deps, seq, stored["uuid"])
    if stored.get("unique_key"):
        txn.conn.execute(txn.q.hold_unique, (seq, stored["unique_key"]))
    if stored.get("tracked"):
        txn.conn.execute(txn.q.track, (seq,))
    if stored.get("recurrence"):
        txn.conn.execute(txn.q.add_spawned, (seq, stored["recurrence"]))
    return seq


def insert_row(conn: Conn, record: Record, now: float) -> int:
    """INSERT a job as given, with its tags and its ``put`` history entry; returns its seq.
    ValueError if a job with its uuid exists or the record lacks a column's key."""
    missing = COLUMN_SET - record.keys()
    if missing:
        raise ValueError(f"the record lacks {', '.join(sorted(missing))}")
    doc = {k: v for k, v in record.items() if k not in COLUMN_SET and not k.startswith("_")}
    try:
        row = conn.execute(conn.q.insert_job, {**record, "doc": dumps(doc)}).fetchone()
    except conn.IntegrityError as exc:
        if "uuid" in str(exc):  # SQLite: jobs.uuid; PostgreSQL: jobs_uuid_key.
            raise ValueError(f"a job with id {record['uuid']!r} exists") from exc
        raise ValueError(f"the record of job {record['uuid']!r} is invalid: {exc}") from exc
    seq: int = row[0]  # RETURNING seq: a DB-API lastrowid is not on every engine.
    conn.executemany(conn.q.add_tag, [(tag, seq) for tag in record.get("tags") or ()])
    register_fair_key(conn, record["queue"], record.get(flow.FAIR_KEY))
    log_entry(conn, seq, now, "put", record["state"])
    return seq
