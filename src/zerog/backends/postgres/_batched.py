"""Deferred writes as fewer statements (see ``PgConn.defer``): a transaction's history entries
as one INSERT, and each run of consecutive job updates of one shape (the claims' ``start_run``,
the settlements' ``update_sql``) as one UPDATE over arrays.

A worker's batch of N completions and N claims thus costs the server a handful of statements,
not 4 N. Nothing anyone sees changes: the statements are the same writes, in one transaction,
in the same order but for the history entries, which go last. Those are another table's rows,
whose numbering (max + 1 per job, by the entries before them) is kept: a job's entries are
numbered in the order given.
"""

from __future__ import annotations

import functools
from typing import Any

from zerog.backends.postgres._sql import PQ, SHAPES

Statement = tuple[str, Any]

ADD_HISTORY_MANY = """INSERT INTO history (job, n, at, event, state, worker, detail)
SELECT v.job,
       coalesce((SELECT max(h.n) FROM history AS h WHERE h.job = v.job), 0)
           + row_number() OVER (PARTITION BY v.job ORDER BY v.i),
       v.at, v.event, v.state, v.worker, v.detail
FROM unnest(%b::bigint[], %b::float8[], %b::text[], %b::text[], %b::text[], %b::text[])
    WITH ORDINALITY AS v (job, at, event, state, worker, detail, i)"""
"""``add_history`` for several entries (its parameters' columns as arrays, in order)."""

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
"""``start_run``'s parameters, in the order of :data:`START_RUN_MANY`'s arrays."""

START_RUN_MANY = """UPDATE jobs SET
    state = v.state, attempts = v.attempts, lease_token = v.lease_token, worker = v.worker,
    lease_expires_at = v.lease_expires_at, control = v.control, updated_at = v.updated_at,
    started_at = v.started_at
FROM unnest(%b::bigint[], %b::text[], %b::bigint[], %b::bigint[], %b::text[], %b::float8[],
            %b::text[], %b::float8[], %b::float8[])
    AS v (seq, state, attempts, lease_token, worker, lease_expires_at, control, updated_at,
          started_at)
WHERE jobs.seq = v.seq"""
"""``start_run`` for several claimed jobs."""

TYPES = {
    "uuid": "text",
    "queue": "text",
    "type": "text",
    "state": "text",
    "priority": "bigint",
    "ready_at": "float8",
    "expires_at": "float8",
    "ttr_seconds": "float8",
    "max_retries": "bigint",
    "attempts": "bigint",
    "lease_token": "bigint",
    "lease_expires_at": "float8",
    "worker": "text",
    "control": "text",
    "created_at": "float8",
    "updated_at": "float8",
    "started_at": "float8",
    "finished_at": "float8",
}
"""The type of each column of ``jobs`` an update may set (schema.sql)."""

MAX_ARRAYS = 90  # a function takes at most 100 arguments (unnest's arrays).


def coalesced(pending: list[Statement]) -> list[Statement]:
    """The deferred writes ``pending`` as fewer statements (see the module's docstring)."""
    history: list[Any] = []
    out: list[Statement] = []
    run: list[Any] = []  # the parameters of the current run of one statement...
    run_sql = ""  # ...that statement...
    seqs: set[int] = set()  # ...and the jobs it updates (a job twice ends the run).
    for sql, parameters in pending:
        if sql is PQ.add_history:
            history.append(parameters)
            continue
        seq = _seq_of(sql, parameters)
        if run and (sql is not run_sql or seq in seqs):
            out += _merged(run_sql, run)
            run, seqs = [], set()
        if seq is None:
            out.append((sql, parameters))
            continue
        run_sql = sql
        run.append(parameters)
        seqs.add(seq)
    if run:
        out += _merged(run_sql, run)
    arrays = None
    if len(history) > 1:
        arrays = _typed([list(column) for column in zip(*history, strict=True)], HISTORY_TYPES)
    if arrays is not None:
        out.append((ADD_HISTORY_MANY, arrays))
    else:
        out += [(PQ.add_history, parameters) for parameters in history]
    return out


def _seq_of(sql: str, parameters: Any) -> int | None:
    """The job a mergeable update writes; None for a statement that is sent as it is."""
    if sql is PQ.start_run:
        return int(parameters["seq"])
    shape = SHAPES.get(sql)
    if shape is None or len(shape[0]) + len(shape[1]) + 1 > MAX_ARRAYS:
        return None
    return int(parameters[-1])


def _merged(sql: str, run: list[Any]) -> list[Statement]:
    """A run of one statement's parameters as one statement (as they are when a value is not
    of its column's plain Python type)."""
    if len(run) > 1 and sql is PQ.start_run:
        types = ["bigint", *(TYPES[k] for k in START_RUN_KEYS[1:])]
        arrays = _typed([[p[key] for p in run] for key in START_RUN_KEYS], types)
        if arrays is not None:
            return [(START_RUN_MANY, arrays)]
    elif len(run) > 1:
        columns, doc_keys = SHAPES[sql]
        types = [*(TYPES[c] for c in columns), *("text" for _ in doc_keys), "bigint"]
        arrays = _typed([list(column) for column in zip(*run, strict=True)], types)
        if arrays is not None:
            return [(update_many_sql(columns, doc_keys), arrays)]
    return [(sql, parameters) for parameters in run]


HISTORY_TYPES = ["bigint", "float8", "text", "text", "text", "text"]
"""The types of ``add_history``'s parameters."""

KINDS: dict[str, tuple[type, ...]] = {"bigint": (int,), "float8": (float, int), "text": (str,)}


def _typed(arrays: list[list[Any]], types: list[str]) -> list[list[Any]] | None:
    """Each array's values, as floats in float8 arrays (psycopg types a list by its first
    value: an int among floats would not fit); None when a value is not of its column's plain
    Python type (an enum, a bool), which is then sent as it is, one statement each."""
    for array, kind in zip(arrays, types, strict=True):
        allowed = KINDS[kind]
        for value in array:
            if value is not None and type(value) not in allowed:
                return None
        if kind == "float8":
            array[:] = [None if value is None else float(value) for value in array]
    return arrays


@functools.lru_cache(maxsize=256)
def update_many_sql(columns: tuple[str, ...], doc_keys: tuple[str, ...]) -> str:
    """``update_sql(columns, doc_keys)`` for several jobs: its parameters' columns as arrays."""
    names = [f"c{i}" for i in range(len(columns))] + [f"d{j}" for j in range(len(doc_keys))]
    types = [TYPES[c] for c in columns] + ["text"] * len(doc_keys)
    sets = [f"{column} = v.c{i}" for i, column in enumerate(columns)]
    if doc_keys:
        pairs = ", ".join(f"'{key}', v.d{j}::jsonb" for j, key in enumerate(doc_keys))
        sets.append(f"doc = doc || jsonb_build_object({pairs})")
    arrays = ", ".join(f"%b::{kind}[]" for kind in [*types, "bigint"])
    return (
        f"UPDATE jobs SET {', '.join(sets)} FROM unnest({arrays}) "
        f"AS v ({', '.join([*names, 'seq'])}) WHERE jobs.seq = v.seq"
    )
