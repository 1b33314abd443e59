"""The PostgreSQL server of the tests: ``ZEROG_TEST_POSTGRES``, else the cluster of the tests'
own that ``make deps`` started (``tools/test-postgres.sh`` writes its URL to
``build/test-postgres-url``), else the local default.

Each pytest session makes a database of its own (``zerog_test_<random>``, made through the
server's ``test`` database) and drops it at the end (:func:`stop_shared`); each test takes a
fresh schema in it (:func:`url`), which costs a few milliseconds. A machine without the server
fails these tests (never skips them): the message says how to start it.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"
OWN_CLUSTER_URL = Path(__file__).resolve().parents[3] / "build" / "test-postgres-url"
START_HINT = "make deps  (tools/test-postgres.sh starts a cluster of the tests' own)"

_session_db: str | None = None


def admin_url() -> str:
    """The URL of the server's database that sessions make theirs through."""
    own = OWN_CLUSTER_URL.read_text().strip() if OWN_CLUSTER_URL.exists() else None
    return os.environ.get("ZEROG_TEST_POSTGRES") or own or DEFAULT_URL


def _with_database(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{database}", query=""))


def _admin() -> psycopg.Connection[tuple[object, ...]]:
    try:
        return psycopg.connect(admin_url(), autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        pytest.fail(
            f"the PostgreSQL server of the tests ({admin_url()}) cannot be reached: {exc}. "
            f"Start it with `{START_HINT}`, or set ZEROG_TEST_POSTGRES to a server's URL "
            f"(its user must be allowed to CREATE DATABASE)",
            pytrace=False,
        )


def database_url() -> str:
    """The session's database (made at first use): ``postgresql://.../zerog_test_<random>``."""
    global _session_db
    if _session_db is None:
        name = f"zerog_test_{uuid.uuid4().hex[:12]}"
        with _admin() as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        _session_db = name
    return _with_database(admin_url(), _session_db)


def url(schema: str | None = None) -> str:
    """A backend URL on the session's database, in a fresh schema (a random one by default)."""
    return f"{database_url()}?schema={schema or f't_{uuid.uuid4().hex[:16]}'}"


def connect() -> psycopg.Connection[tuple[object, ...]]:
    """A plain autocommit connection to the session's database (to look or to kill)."""
    return psycopg.connect(database_url(), autocommit=True)


def stop_shared() -> None:
    """Drop the session's database, ending what is still connected to it."""
    global _session_db
    if _session_db is None:
        return
    name, _session_db = _session_db, None
    with _admin() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
