"""Putting many new jobs at once (Backend.put_many): plain jobs by multi-row INSERT.

A plain job (no dependencies, unique key, debounce, tracking or recurrence, not waiting on
dependencies) needs none of the decisions of :func:`.put.put_row`: it is a row, its tags and
its ``put`` history entry. Consecutive plain jobs are therefore inserted :data:`CHUNK` rows
per statement (one round trip to a server instead of one per job); the tags and history
entries follow with ``executemany`` (pipelined by psycopg). A job that is not plain goes
through :func:`.put.put_row` at its place in the batch, so a job may depend on, or share a
unique key with, one put before it in the same batch, exactly as with one put per job.
"""

from __future__ import annotations

from collections.abc import Iterable

from zerog.backends.sql.rows import dumps
from zerog.backends.sql.statements import COLUMN_SET, COLUMNS, Conn
from zerog.backends.sql.steps.put import put_row
from zerog.backends.sql.txn import Txn
from zerog.model import Placed, Record, State

CHUNK = 500
"""Jobs per INSERT: 500 x 19 parameters stays under SQLite's and PostgreSQL's limits."""

_LISTS = ("dependents", "tags", "throttles")  # as in .put: keys given an empty list.
_NOT_PLAIN = ("depends", "unique_key", "_debounce", "tracked", "recurrence")
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
    """INSERT the plain jobs of ``run`` in one statement, then their tags and history."""
    conn, now = txn.conn, txn.now
    values: list[object] = []
    for record in run:
        missing = COLUMN_SET - record.keys()
        if missing:
            raise ValueError(f"the record lacks {', '.join(sorted(missing))}")
        stored = {**record, "blocked_by": {}, "depends": [], "updated_at": now}
        for key in _LISTS:
            stored.setdefault(key, [])
        doc = {k: v for k, v in stored.items() if k not in COLUMN_SET and not k.startswith("_")}
        values.extend(stored[column] for column in COLUMNS)
        values.append(dumps(doc))
    try:
        rows = conn.execute(_rows_sql(conn, len(run)), values).fetchall()
    except conn.IntegrityError as exc:
        if "uuid" in str(exc):
            raise ValueError(f"a job of this batch has the id of another: {exc}") from exc
        raise ValueError(f"a record of this batch is invalid: {exc}") from exc
    seqs = {str(uuid): int(seq) for seq, uuid in rows}
    tags = [(tag, seqs[r["uuid"]]) for r in run for tag in r.get("tags") or ()]
    if tags:
        conn.executemany(conn.q.add_tag, tags)
    history = [(seqs[r["uuid"]], now, "put", r["state"], None, None) for r in run]
    conn.executemany(conn.q.add_history, history)
    return [Placed(r["uuid"]) for r in run]


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
