"""The SQL of the SQLite dialect: its statements loaded from ``sql/*.sql`` under the names
of :class:`~zerog.backends.sql.statements.Queries`, its schema and the migrations of older
files, and SQLite's versions of the two statements whose shape depends on the call (which
keys an update writes, which list filters are set), assembled from fixed fragments and cached
by shape.

The steps never name this module's :data:`Q`: they take their statements from the connection
(``conn.q``), so that the same steps run on every dialect.
"""

from __future__ import annotations

import functools

from zerog.backends.sql.statements import (
    COLUMN_SET,
    DOC_KEY,
    LIST_FILTERS,
    load_queries,
    read_sql,
)

DIALECT = "sqlite"
SCHEMA_VERSION = "4"
SCHEMA = read_sql("schema.sql", __package__)
MIGRATIONS = {
    "1": read_sql("migrate_2.sql", __package__),
    "2": read_sql("migrate_3.sql", __package__),
    "3": read_sql("migrate_4.sql", __package__),
}
"""Scripts that turn a file of version <key> into the next version; applied in turn on open."""


@functools.lru_cache(maxsize=256)
def update_sql(columns: tuple[str, ...], doc_keys: tuple[str, ...]) -> str:
    """``UPDATE jobs`` setting these columns and these top-level keys of ``doc``, by seq.

    Parameters: the column values, then each doc value as JSON text, then the seq. Doc keys
    are patched in place with ``json_set``, so the rest of the document is never sent back.
    """
    unknown = [c for c in columns if c not in COLUMN_SET]
    bad = [k for k in doc_keys if k in COLUMN_SET or not DOC_KEY.match(k)]
    if unknown or bad:
        raise ValueError(f"cannot update columns {unknown} / document keys {bad}")
    sets = [f"{column} = ?" for column in columns]
    if doc_keys:
        pairs = ", ".join(f"'$.{key}', json(?)" for key in doc_keys)
        sets.append(f"doc = json_set(doc, {pairs})")
    return f"UPDATE jobs SET {', '.join(sets)} WHERE seq = ?"


@functools.lru_cache(maxsize=64)
def list_sql(filters: tuple[str, ...]) -> str:
    """``SELECT`` of jobs matching the named :data:`LIST_FILTERS`, newest first."""
    where = " AND ".join(LIST_FILTERS[name] for name in filters) or "1"
    return f"SELECT * FROM jobs WHERE {where} ORDER BY seq DESC LIMIT :limit"


Q = load_queries(DIALECT, read_sql("queries.sql", __package__), update_sql, list_sql)
"""SQLite's statements: on every connection of the SQLite backend as ``conn.q``."""
