"""``postgresql://``: jobs in a PostgreSQL schema, shared by workers on many hosts (needs the
extra ``zerog[postgres]``: psycopg 3)."""

from zerog.backends.postgres.backend import PostgresBackend

__all__ = ["PostgresBackend"]
