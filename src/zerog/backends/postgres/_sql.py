"""The SQL of the PostgreSQL dialect: the statement names of
:class:`~zerog.backends.sql.statements.Queries` over PostgreSQL's SQL (``sql/queries.sql``), its
schema, and PostgreSQL's versions of the two statements shaped by the call.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from zerog.backends.sql import statements
from zerog.backends.sql.statements import COLUMN_SET, DOC_KEY, Queries, load_queries, read_sql

DIALECT = "postgres"
SCHEMA = read_sql("schema.sql", __package__)
MAX_PAIRS = 40  # key/value pairs per jsonb_build_object call (a function takes 100 arguments).


@functools.lru_cache(maxsize=256)
def update_sql(columns: tuple[str, ...], doc_keys: tuple[str, ...]) -> str:
    """``UPDATE jobs`` setting these columns and these top-level keys of ``doc``, by seq.

    Parameters as SQLite's (column values, each doc value as JSON text, the seq). Doc keys are
    merged with jsonb's ``||``, so the rest of the document is never sent back."""
    unknown = [c for c in columns if c not in COLUMN_SET]
    bad = [k for k in doc_keys if k in COLUMN_SET or not DOC_KEY.match(k)]
    if unknown or bad:
        raise ValueError(f"cannot update columns {unknown} / document keys {bad}")
    sets = [f"{column} = %s" for column in columns]
    if doc_keys:
        objects = [
            "jsonb_build_object("
            + ", ".join(f"'{key}', %s::jsonb" for key in doc_keys[i : i + MAX_PAIRS])
            + ")"
            for i in range(0, len(doc_keys), MAX_PAIRS)
        ]
        sets.append(f"doc = doc || {' || '.join(objects)}")
    return f"UPDATE jobs SET {', '.join(sets)} WHERE seq = %s"


LIST_FILTERS = {
    name: re.sub(r":(\w+)", r"%(\1)s", text) for name, text in statements.LIST_FILTERS.items()
}
"""The engine's list filters with psycopg's placeholders (``%(name)s`` for ``:name``)."""


@functools.lru_cache(maxsize=64)
def list_sql(filters: tuple[str, ...]) -> str:
    """``SELECT`` of jobs matching the named :data:`LIST_FILTERS`, newest first."""
    where = " AND ".join(LIST_FILTERS[name] for name in filters) or "TRUE"
    return f"SELECT * FROM jobs WHERE {where} ORDER BY seq DESC LIMIT %(limit)s"


PQ: Queries = load_queries(DIALECT, read_sql("queries.sql", __package__), update_sql, list_sql)
"""PostgreSQL's statements: on every connection of the PostgreSQL backend as ``conn.q``."""


ADD_HISTORY_MANY = """INSERT INTO history (job, n, at, event, state, worker, detail)
SELECT v.job,
       coalesce((SELECT max(h.n) FROM history AS h WHERE h.job = v.job), 0)
           + row_number() OVER (PARTITION BY v.job ORDER BY v.i),
       v.at, v.event, v.state, v.worker, v.detail
FROM unnest(%s::bigint[], %s::float8[], %s::text[], %s::text[], %s::text[], %s::text[])
    WITH ORDINALITY AS v (job, at, event, state, worker, detail, i)"""
"""``add_history`` for several entries in one statement (columns as arrays, in the order of
``add_history``'s parameters): a job's entries are numbered in the order given."""

START_RUN_MANY = """UPDATE jobs SET
    state = v.state, attempts = v.attempts, lease_token = v.lease_token, worker = v.worker,
    lease_expires_at = v.lease_expires_at, control = v.control, updated_at = v.updated_at,
    started_at = v.started_at
FROM unnest(%s::bigint[], %s::text[], %s::bigint[], %s::bigint[], %s::text[], %s::float8[],
            %s::text[], %s::float8[], %s::float8[])
    AS v (seq, state, attempts, lease_token, worker, lease_expires_at, control, updated_at,
          started_at)
WHERE jobs.seq = v.seq"""
"""``start_run`` for several claimed jobs in one statement."""

START_RUN_KEYS = (
    "seq",
    "state",
    "attempts",
    "lease_token",
    "worker",
    "lease_expires_at",
    "control",
    "updated_at",
    "started_at",
)
"""The parameters of ``start_run`` in the order of :data:`START_RUN_MANY`'s arrays."""


def coalesced(pending: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    """Deferred writes (see ``PgConn.defer``) as fewer statements: the history entries as one
    INSERT at the end, each run of consecutive claims (``start_run``) as one UPDATE.

    Moving the history entries after the other writes changes nothing anyone sees: they are
    another table's rows, written in the same transaction, whose numbering (max + 1 per job)
    depends only on the entries before them, kept in order."""
    history: list[Any] = []
    out: list[tuple[str, Any]] = []
    runs: list[Any] = []  # the claims of the current run of consecutive ones.
    for sql, parameters in pending:
        if sql is PQ.add_history:
            history.append(parameters)
            continue
        if sql is PQ.start_run:
            runs.append(parameters)
            continue
        _end_run(out, runs)
        out.append((sql, parameters))
    _end_run(out, runs)
    if len(history) == 1:
        out.append((PQ.add_history, history[0]))
    elif history:
        out.append((ADD_HISTORY_MANY, [list(column) for column in zip(*history, strict=True)]))
    return out


def _end_run(out: list[tuple[str, Any]], runs: list[Any]) -> None:
    if len(runs) == 1:
        out.append((PQ.start_run, runs[0]))
    elif runs:
        out.append((START_RUN_MANY, [[p[k] for p in runs] for k in START_RUN_KEYS]))
    runs.clear()
