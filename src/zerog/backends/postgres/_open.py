"""Opening a PostgreSQL job store: the URL, and the schema created if missing.

Several processes may open a fresh schema at the same moment: creation runs under an advisory
lock of that schema's (the one writes take), and every statement of ``sql/schema.sql`` is
idempotent, so the first creates it and the others find it made.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any
from urllib.parse import unquote, urlsplit

from zerog.backends.postgres import _db
from zerog.backends.postgres._sql import PQ, SCHEMA, SCHEMA_VERSION
from zerog.backends.sql.statements import COLUMNS
from zerog.errors import ConfigurationError
from zerog.urls import BackendURL

DEFAULT_SCHEMA = "zerog"
_SCHEMA_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
OURS = ("schema", "connect_timeout")  # URL options zerog reads; the others go to libpq.


def options_of(parsed: BackendURL) -> _db.Options:
    """The connection parameters a ``postgresql://`` URL names (see PostgresBackend.from_url)."""
    parts = urlsplit(parsed.raw)
    database = unquote(parsed.path.lstrip("/"))
    if not database or "/" in database:
        raise ConfigurationError(
            f"{parsed.masked!r} names no database; write "
            f"postgresql://user@host:port/database[?schema=name]"
        )
    extra = dict(parsed.options)
    schema = extra.pop("schema", DEFAULT_SCHEMA)
    if not _SCHEMA_NAME.match(schema):
        raise ConfigurationError(
            f"schema must be a plain name (letters, digits, _; at most 63), not {schema!r}"
        )
    timeout = _seconds(extra.pop("connect_timeout", "10"), parsed.masked)
    conninfo: dict[str, Any] = {"dbname": database, **extra}
    if parsed.host:
        conninfo["host"] = parsed.host
    if parsed.port:
        conninfo["port"] = parsed.port
    if parts.username:
        conninfo["user"] = unquote(parts.username)
    if parts.password:
        conninfo["password"] = unquote(parts.password)
    return _db.Options(
        conninfo=conninfo,
        schema=schema,
        lock_key=lock_key(database, schema),
        where=f"{parsed.masked.split('?')[0]} (schema {schema})",
        connect_timeout=timeout,
    )


def _seconds(raw: str, where: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        value = -1
    if value < 1:
        raise ConfigurationError(
            f"connect_timeout must be a whole number of seconds >= 1, not {raw!r} (in {where!r})"
        )
    return value


def lock_key(database: str, schema: str) -> int:
    """The advisory lock of one schema's writers: a signed 64-bit hash of its name, so that
    stores in other schemas of the same database never wait on each other."""
    digest = hashlib.blake2b(f"zerog:{database}:{schema}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def open_schema(database: _db.Database) -> None:
    """Create the schema and its tables if missing, then check the version and the columns.
    The first connection is opened here: an unreachable server fails at once."""
    database.connection()
    schema = database.options.schema
    found = database.read(_version)
    if found is None:
        database.write(lambda conn: _create(conn, schema))
        found = database.read(_version)
    if found != SCHEMA_VERSION:
        raise ConfigurationError(
            f"the PostgreSQL schema {schema!r} at {database.options.where} has zerog schema "
            f"version {found!r}; this zerog needs {SCHEMA_VERSION!r}"
        )
    columns = database.read(lambda conn: [r[0] for r in conn.execute(PQ.table_columns)])
    if tuple(columns) != ("seq", *COLUMNS, "doc"):
        raise ConfigurationError(
            f"schema {schema!r} at {database.options.where} has a jobs table zerog did not "
            f"make (columns {', '.join(columns)}); use another ?schema="
        )


def _version(conn: _db.PgConn) -> str | None:
    """The schema's version, or None when it has no zerog tables yet."""
    row = conn.execute(
        "SELECT to_regclass('meta') IS NOT NULL AND EXISTS "
        "(SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema() "
        "AND table_name = 'meta')"
    ).fetchone()
    if not row or not row[0]:
        return None
    found = conn.execute(PQ.schema_version).fetchone()
    return None if found is None else str(found[0])


def _create(conn: _db.PgConn, schema: str) -> None:
    """Run in a write transaction: the schema's lock is held, so one process creates it."""
    conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
    conn.execute(f'SET LOCAL search_path = "{schema}"')  # the schema exists now.
    conn.execute(SCHEMA)
