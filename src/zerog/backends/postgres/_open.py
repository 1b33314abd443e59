"""Opening a PostgreSQL job store: the URL, and the schema created or migrated if need be.

Several processes may open a fresh schema at the same moment: creation and migration run under
an advisory lock of that schema's and read the version again under it, so the first creates
or migrates it and the others find it done (see :mod:`._migrate`).
"""

from __future__ import annotations

import hashlib
import re
from typing import Any
from urllib.parse import unquote, urlsplit

from zerog.backends.postgres import _db, _migrate
from zerog.backends.postgres._sql import PQ
from zerog.backends.sql.statements import COLUMNS
from zerog.errors import ConfigurationError
from zerog.urls import BackendURL

DEFAULT_SCHEMA = "zerog"
_SCHEMA_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
OURS = (
    "schema",
    "connect_timeout",
    "listen",
    "pool",
)  # URL options zerog reads; the others go to libpq.


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
    listen = _switch(extra.pop("listen", "on"), "listen", parsed.masked)
    pool = _pool_size(extra.pop("pool", "0"), parsed.masked)
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
        listen=listen,
        pool=pool,
    )


def _switch(raw: str, name: str, where: str) -> bool:
    value = raw.strip().lower()
    if value not in ("on", "off", "true", "false", "1", "0", "yes", "no"):
        raise ConfigurationError(f"{name} must be on or off, not {raw!r} (in {where!r})")
    return value in ("on", "true", "1", "yes")


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


def _pool_size(raw: str, where: str) -> int:
    """``pool=N``: calls share a pool of N connections (0, the default: one per thread)."""
    if not raw.strip().isdigit() or not 0 <= int(raw) <= 1000:
        raise ConfigurationError(
            f"pool must be a whole number of connections from 0 to 1000, not {raw!r} (in {where!r})"
        )
    return int(raw)


def lock_key(database: str, schema: str) -> int:
    """The advisory lock of one schema's writers: a signed 64-bit hash of its name, so that
    stores in other schemas of the same database never wait on each other."""
    digest = hashlib.blake2b(f"zerog:{database}:{schema}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def open_schema(database: _db.Database) -> None:
    """Create the schema and its tables if missing, or migrate them (see :mod:`._migrate`),
    then check the columns. The first connection is opened here: an unreachable server fails
    at once."""
    database.connection()
    schema = database.options.schema
    found = _migrate.current(database)
    if found is not None:  # tables zerog did not make are never migrated.
        check_columns(database)
        if found > _migrate.LATEST:
            raise _migrate.too_new(schema, found)
    if found != _migrate.LATEST:
        _migrate.migrate(database)
    if found is None:
        check_columns(database)


def check_columns(database: _db.Database) -> None:
    """Refuse a jobs table zerog did not make (the schema's name was taken)."""
    columns = database.read(lambda conn: [r[0] for r in conn.execute(PQ.table_columns)])
    if tuple(columns) != ("seq", *COLUMNS, "doc"):
        raise ConfigurationError(
            f"schema {database.options.schema!r} at {database.options.where} has a jobs table "
            f"zerog did not make (columns {', '.join(columns)}); use another ?schema="
        )
