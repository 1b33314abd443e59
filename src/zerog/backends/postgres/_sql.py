"""The SQL of the PostgreSQL dialect: the statement names of
:class:`~zerog.backends.sql.statements.Queries` over PostgreSQL's SQL (``sql/queries.sql``), its
schema, and PostgreSQL's versions of the two statements shaped by the call.
"""

from __future__ import annotations

import functools
import re

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
    sql = f"UPDATE jobs SET {', '.join(sets)} WHERE seq = %s"
    SHAPES[sql] = (columns, doc_keys)
    return sql


SHAPES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {}
"""What each statement :func:`update_sql` made writes, by its text (for ``_batched``)."""


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
