"""Opening a SQLite job store: the URL, the file's path, WAL mode and the schema.

Several processes may open a fresh file at the same moment: every step here is idempotent
and runs under :meth:`._db.Database.run`, which retries while another process holds the lock.
"""

from __future__ import annotations

import functools
import logging
import sqlite3
from pathlib import Path
from urllib.parse import unquote

from zerog.backends.sql.statements import COLUMNS
from zerog.backends.sqlite import _db
from zerog.backends.sqlite._sql import MIGRATIONS, SCHEMA, SCHEMA_VERSION, Q
from zerog.errors import BackendError, ConfigurationError
from zerog.urls import BackendURL

log = logging.getLogger(__name__)

DEFAULT_BUSY_TIMEOUT_SECONDS = 5.0  # SQLite's own wait for the lock, before our retry loop.
SYNCHRONOUS = {"normal": "NORMAL", "full": "FULL"}  # URL option -> PRAGMA synchronous value.
OPTIONS = ("busy_timeout", "synchronous")
MIN_SQLITE = (3, 35, 0)  # UPDATE ... RETURNING (touch).


def options_of(parsed: BackendURL) -> _db.Options:
    """The path and options a ``sqlite://`` URL names (see :meth:`SqliteBackend.from_url`)."""
    options = dict(parsed.options)
    synchronous = options.pop("synchronous", "normal")
    busy = options.pop("busy_timeout", str(DEFAULT_BUSY_TIMEOUT_SECONDS))
    if options:
        raise ConfigurationError(
            f"unknown option(s) {', '.join(sorted(options))} in {parsed.masked!r}; "
            f"known: {', '.join(OPTIONS)}"
        )
    return _db.Options(
        path=path_of(parsed),
        synchronous=synchronous_of(synchronous),
        busy_timeout_seconds=busy_timeout_of(busy, parsed.masked),
    )


def path_of(parsed: BackendURL) -> str:
    """``sqlite:///a.db`` is the relative path ``a.db``; ``sqlite:////a.db`` is ``/a.db``."""
    if parsed.host or not parsed.path.startswith("/") or len(parsed.path) < 2:
        raise ConfigurationError(
            f"{parsed.masked!r} names no database file; write sqlite:///relative/path.db "
            f"or sqlite:////absolute/path.db"
        )
    path = unquote(parsed.path[1:])
    if path == ":memory:":
        raise ConfigurationError(
            "sqlite:///:memory: is private to one connection; use memory:// instead"
        )
    return path


def synchronous_of(raw: str) -> str:
    """The PRAGMA synchronous value of the ``synchronous`` option."""
    value = SYNCHRONOUS.get(raw.lower())
    if value is None:
        raise ConfigurationError(
            f"synchronous must be one of {', '.join(SYNCHRONOUS)}, not {raw!r}"
        )
    return value


def busy_timeout_of(raw: str, where: str) -> float:
    """The ``busy_timeout`` option in seconds (0: SQLite does not wait, our loop does)."""
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value >= 0:  # also refuses NaN.
        raise ConfigurationError(
            f"busy_timeout must be a number of seconds >= 0, not {raw!r} (in {where!r})"
        )
    return value


def checked_path(path: Path) -> str:
    """The database path, if its directory exists and it is not a directory itself (and the
    SQLite library is recent enough)."""
    if sqlite3.sqlite_version_info < MIN_SQLITE:
        raise ConfigurationError(
            f"the sqlite:// backend needs SQLite {'.'.join(map(str, MIN_SQLITE))} or newer; "
            f"this Python has {sqlite3.sqlite_version}"
        )
    if not path.parent.is_dir():
        raise ConfigurationError(
            f"the directory {str(path.parent)!r} of the SQLite database {str(path)!r} "
            f"does not exist"
        )
    if path.is_dir():
        raise ConfigurationError(f"the SQLite database path {str(path)!r} is a directory")
    return str(path)


def open_schema(database: _db.Database) -> None:
    """Put the file in WAL mode, create the schema if it is missing or upgrade an older one
    (see ``_sql.MIGRATIONS``), and check its version."""
    path = database.options.path
    try:
        mode = database.run(lambda conn: conn.execute("PRAGMA journal_mode = WAL").fetchone(), None)
    except BackendError as exc:  # not a database, no permission, ...
        raise ConfigurationError(f"cannot use {path} as a zerog database: {exc}") from exc
    if mode is None or str(mode[0]).lower() != "wal":
        log.warning(
            "SQLite database %s is in %s mode, not WAL; writers will block readers",
            path,
            mode and mode[0],
        )
    found = database.run(lambda conn: _create_schema(conn, path), None)
    while found in MIGRATIONS:
        step = functools.partial(_migrate, script=MIGRATIONS[found], path=path)
        found = database.run(step, None)
    if found != SCHEMA_VERSION:
        raise ConfigurationError(
            f"the SQLite database {path} has zerog schema version {found!r}; this zerog "
            f"needs {SCHEMA_VERSION!r}"
        )
    columns = database.read(lambda conn: [r[0] for r in conn.execute(Q.table_columns)])
    if tuple(columns) != ("seq", *COLUMNS, "doc"):
        raise ConfigurationError(
            f"{path} has a jobs table zerog did not make (columns {', '.join(columns)})"
        )


def _migrate(conn: sqlite3.Connection, script: str, path: str) -> str | None:
    """Run one migration script in its own write transaction; returns the version after it.

    The scripts are idempotent: of several processes opening an old file at once, the first
    migrates it and the others change nothing."""
    try:
        conn.executescript(f"BEGIN IMMEDIATE;\n{script}\nCOMMIT;")
    except sqlite3.OperationalError as exc:
        if _db.is_busy(exc):
            raise  # retried by Database.run
        raise ConfigurationError(f"cannot upgrade zerog's tables in {path}: {exc}") from exc
    row = conn.execute(Q.schema_version).fetchone()
    return None if row is None else str(row[0])


def _create_schema(conn: sqlite3.Connection, path: str) -> str | None:
    """The file's schema version, after creating the schema if it has none."""
    try:
        row = conn.execute(Q.schema_version).fetchone()
    except sqlite3.OperationalError as exc:
        if "no such table" not in str(exc):
            raise
        try:
            # executescript() runs statements as written: the script carries its transaction.
            conn.executescript(f"BEGIN IMMEDIATE;\n{SCHEMA}\nCOMMIT;")
        except sqlite3.OperationalError as exc:
            if _db.is_busy(exc):
                raise  # retried by Database.run
            raise ConfigurationError(
                f"cannot create zerog's tables in {path}: {exc}; is it another program's database?"
            ) from exc
        row = conn.execute(Q.schema_version).fetchone()
    return None if row is None else str(row[0])
