"""Versioned migrations of a PostgreSQL job store.

A schema's version is the row ``schema_version`` of its ``meta`` table. Version 1 is
``sql/schema.sql``; each later version ``n`` is ``sql/migrate_<n>.sql``. :func:`migrate` runs
what a schema lacks, in order, in ONE write transaction under the schema's advisory lock: the
processes that open a schema at once migrate it once, and a failed step leaves the old version
whole (PostgreSQL's DDL is transactional), so there is never a half-migrated schema.

A store is migrated when it is first opened by a zerog that needs a later version. A role that
may not change the schema (a least-privilege application role) gets a
:class:`~zerog.errors.ConfigurationError` that says to run ``zerog migrate <url>`` once as a
role that may (the schema's owner): the deployment step of a release. A schema of a later
version than this zerog knows is refused, never written to.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg.errors

from zerog.backends.postgres import _db
from zerog.backends.postgres._sql import PQ, SCHEMA
from zerog.backends.sql.statements import read_sql
from zerog.errors import BackendError, ConfigurationError

LATEST = 4
"""The schema version this zerog writes (1: schema.sql; 2: NOTIFY wake-ups; 3: rate limits and
fair share; 4: no bloat)."""

STEPS = {n: read_sql(f"migrate_{n}.sql", __package__) for n in range(2, LATEST + 1)}


@dataclass(frozen=True)
class Migrated:
    """What :func:`migrate` did: the version found (None: no zerog tables) and the one now."""

    before: int | None
    after: int

    @property
    def changed(self) -> bool:
        """Whether anything was created or migrated."""
        return self.before != self.after


def current(database: _db.Database) -> int | None:
    """The schema's version (a read, no lock); None when it has no zerog tables yet."""
    return database.read(version_of)


def migrate(database: _db.Database) -> Migrated:
    """Create the schema or bring it to :data:`LATEST`, under the schema's lock."""
    schema = database.options.schema
    try:
        return database.write(lambda conn: _migrate(conn, schema), serialize=True)
    except BackendError as exc:
        if isinstance(exc.__cause__, psycopg.errors.InsufficientPrivilege):
            raise ConfigurationError(
                f"the PostgreSQL schema {schema!r} at {database.options.where} needs zerog "
                f"schema version {LATEST} and this role may not create or change its tables "
                f"({str(exc.__cause__).strip()}); run `zerog migrate <url>` once as a role "
                f"that may (the schema's owner)"
            ) from exc
        raise


def _migrate(conn: _db.PgConn, schema: str) -> Migrated:
    before = version_of(conn)  # read again under the lock: another process may have done it.
    found = before
    if found is None:
        conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
        conn.execute(f'SET LOCAL search_path = "{schema}"')  # the schema exists now.
        conn.execute(SCHEMA)
        found = 1
    if found > LATEST:
        raise too_new(schema, found)
    for step in range(found + 1, LATEST + 1):
        conn.execute(STEPS[step])
    conn.execute("UPDATE meta SET value = %s WHERE key = 'schema_version'", (str(LATEST),))
    return Migrated(before, LATEST)


def too_new(schema: str, found: int) -> ConfigurationError:
    """The error of a schema migrated by a later zerog."""
    return ConfigurationError(
        f"the PostgreSQL schema {schema!r} has zerog schema version {found}, made by a later "
        f"zerog; this one knows versions up to {LATEST}: upgrade zerog"
    )


def version_of(conn: _db.PgConn) -> int | None:
    """The schema's version, or None when it has no zerog tables yet."""
    row = conn.execute(
        "SELECT EXISTS (SELECT 1 FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND table_name = 'meta')"
    ).fetchone()
    if not row or not row[0]:
        return None
    found = conn.execute(PQ.schema_version).fetchone()
    if found is None:
        return None
    try:
        return int(found[0])
    except ValueError:
        raise ConfigurationError(
            f"the zerog schema version in table meta is {found[0]!r}, not a number"
        ) from None
