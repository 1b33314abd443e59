"""``postgresql://``: jobs in a PostgreSQL schema, shared by workers on many hosts (needs the
extra ``zerog[postgres]``: psycopg 3)."""

from zerog.backends.postgres._migrate import LATEST as SCHEMA_VERSION
from zerog.backends.postgres._migrate import Migrated
from zerog.backends.postgres.backend import PostgresBackend, migrate_url, schema_version

__all__ = ["SCHEMA_VERSION", "Migrated", "PostgresBackend", "migrate_url", "schema_version"]
