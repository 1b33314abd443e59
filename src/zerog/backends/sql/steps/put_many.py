"""Putting many new jobs at once (Backend.put_many): plain jobs by multi-row INSERT.

A plain job (no dependencies, unique key, debounce, tracking, recurrence or fair key (its
queue's key table is kept by put_row), not waiting on
dependencies) needs none of the decisions of :func:`.put.put_row`: it is a row, its tags and
its ``put`` history entry. Consecutive plain jobs are therefore inserted :data:`CHUNK` rows
per statement (one round trip to a server instead of one per job); the tags and history
entries follow in the same statement on PostgreSQL (one round trip per chunk), with
``executemany`` on SQLite. A job that is not plain goes
through :func:`.put.put_row` at its place in the batch, so a job may depend on, or share a
unique key with, one put before it in the same batch, exactly as with one put per job.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from zerog.backends.sql.rows import dumps
from zerog.backends.sql.statements import COLUMN_SET, COLUMNS, Conn
from zerog.backends.sql.steps.put import put_row
from zerog.backends.sql.txn import Txn
from zerog.model import Placed, Record, State

CHUNK = 500
"""Jobs per INSERT: 500 x 19 parameters stays under SQLite's and PostgreSQL's limits."""

_LISTS = ("dependents", "tags", "throttles")  # as in .put: keys given an empty list.
_NOT_PLAIN = ("depends", "unique_key", "_debounce", "tracked", "recurrence", "fair_key")
_PLACEHOLDER = {"sqlite": "?", "postgres": "%s"}
_ROW_SQL: dict[tuple[str, int], str] = {}


def put_rows(txn: Txn, records: Iterable[Record]) -> list[Placed]:
    """Store ``records`` in order (see Backend.put_many); what was done with each."""
    placed: list[Placed] = []
    run: list[Record] = []
    for record in records:
        if _plain(record):
            run.append(record)
            if len(run) == CHUNK:
                placed.extend(_insert_plain(txn, run))
                run = []
            continue
        if run:
            placed.extend(_insert_plain(txn, run))
            run = []
        placed.append(put_row(txn, record)[0])
    if run:
        placed.extend(_insert_plain(txn, run))
    return placed


def _plain(record: Record) -> bool:
    """Whether ``record`` needs no decision in the put's transaction (see module doc)."""
    if record.get("state") == State.DEPENDS.value:
        return False
    return not any(record.get(key) for key in _NOT_PLAIN)


def _insert_plain(txn: Txn, run: list[Record]) -> list[Placed]:
    """INSERT the plain jobs of ``run``, their tags and their history entries."""
    rows = [_stored(record, txn.now) for record in run]
    try:
        if txn.conn.q.dialect == "postgres":
            _insert_pg(txn, rows)
        else:
            _insert_values(txn, rows)
    except txn.conn.IntegrityError as exc:
        if "uuid" in str(exc):
            raise ValueError(f"a job with id {_taken(txn, rows, exc)!r} exists") from exc
        raise ValueError(f"a record of this batch is invalid: {exc}") from exc
    return [Placed(r["uuid"]) for r in run]


def _taken(txn: Txn, rows: list[Record], exc: Exception) -> str:
    """The uuid a failed INSERT found taken: one the batch repeats, else PostgreSQL's detail
    names it (its transaction is aborted: nothing more can be read), else one stored."""
    seen: set[str] = set()
    for row in rows:
        if row["uuid"] in seen:
            return str(row["uuid"])
        seen.add(row["uuid"])
    detail = getattr(getattr(exc, "diag", None), "message_detail", None) or ""
    found = _KEY_DETAIL.search(detail)
    if found:
        return found.group(1)
    for row in rows if txn.conn.q.dialect != "postgres" else ():
        if txn.conn.execute(txn.q.job_state, (row["uuid"],)).fetchone() is not None:
            return str(row["uuid"])
    return "?"


_KEY_DETAIL = re.compile(r"\(uuid\)=\((.*)\) already exists")


def _stored(record: Record, now: float) -> Record:
    """The record as stored: what :func:`.put.store_new` adds for a job with no rules."""
    missing = COLUMN_SET - record.keys()
    if missing:
        raise ValueError(f"the record lacks {', '.join(sorted(missing))}")
    stored = {**record, "blocked_by": {}, "depends": [], "updated_at": now}
    for key in _LISTS:
        stored.setdefault(key, [])
    return stored


def _doc(stored: Record) -> Record:
    return {k: v for k, v in stored.items() if k not in COLUMN_SET and not k.startswith("_")}


def _insert_pg(txn: Txn, rows: list[Record]) -> None:
    """PostgreSQL: the rows as one JSON parameter of one short statement (prepared once,
    unlike a text of 500 VALUES rows that the driver would parse at every call), which inserts
    the jobs, their tags and their history entries in one round trip. A seq is never reused
    (an identity), so each new job's first history entry is number 1."""
    payload = [{**{c: r[c] for c in COLUMNS}, "doc": _doc(r)} for r in rows]
    txn.conn.execute(PG_PUT_MANY, {"rows": dumps(payload), "now": txn.now})


def _insert_values(txn: Txn, rows: list[Record]) -> None:
    """Other dialects (SQLite: in process, no round trips): one multi-row INSERT, then the
    tags and history entries with ``executemany``."""
    conn, now = txn.conn, txn.now
    values: list[object] = []
    for stored in rows:
        values.extend(stored[column] for column in COLUMNS)
        values.append(dumps(_doc(stored)))
    returned = conn.execute(_rows_sql(conn, len(rows)), values).fetchall()
    seqs = {str(uuid): int(seq) for seq, uuid in returned}
    tags = [(tag, seqs[r["uuid"]]) for r in rows for tag in r["tags"] or ()]
    if tags:
        conn.executemany(conn.q.add_tag, tags)
    history = [(seqs[r["uuid"]], now, "put", r["state"], None, None) for r in rows]
    conn.executemany(conn.q.add_history, history)


_PG_TYPES = {
    "priority": "bigint",
    "max_retries": "bigint",
    "attempts": "bigint",
    "lease_token": "bigint",
    "uuid": "text",
    "queue": "text",
    "type": "text",
    "state": "text",
    "worker": "text",
    "control": "text",
}
_PG_COLUMNS = ", ".join(COLUMNS) + ", doc"
_PG_RECORD = ", ".join(f"{c} {_PG_TYPES.get(c, 'float8')}" for c in COLUMNS) + ", doc jsonb"
PG_PUT_MANY = f"""
WITH r AS (
    SELECT * FROM jsonb_to_recordset(%(rows)s::jsonb) AS r ({_PG_RECORD})
), ins AS (
    INSERT INTO jobs ({_PG_COLUMNS}) SELECT {_PG_COLUMNS} FROM r RETURNING seq, state, doc
), hist AS (
    INSERT INTO history (job, n, at, event, state)
    SELECT seq, 1, %(now)s::float8, 'put', state FROM ins
)
INSERT INTO tags (tag, job)
SELECT t.tag, ins.seq FROM ins, jsonb_array_elements_text(ins.doc->'tags') AS t (tag)
ON CONFLICT DO NOTHING
"""
"""PostgreSQL's bulk put of plain jobs (see :func:`_insert_pg`)."""


def _rows_sql(conn: Conn, count: int) -> str:
    """``INSERT INTO jobs`` of ``count`` rows in the connection's dialect."""
    key = (conn.q.dialect, count)
    sql = _ROW_SQL.get(key)
    if sql is None:
        row = "(" + ", ".join([_PLACEHOLDER[key[0]]] * (len(COLUMNS) + 1)) + ")"
        sql = f"INSERT INTO jobs ({', '.join(COLUMNS)}, doc) VALUES "
        sql += ", ".join([row] * count) + " RETURNING seq, uuid"
        if count == CHUNK:  # the common full chunk only: one text per count would pile up.
            _ROW_SQL[key] = sql
    return sql
