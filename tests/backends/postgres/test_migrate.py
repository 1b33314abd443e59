"""Versioned migrations of the PostgreSQL store: a schema of an older version is migrated when
opened (or by ``zerog migrate``) and keeps its jobs; one of a later version is refused; a role
that may not change the schema is told to run ``zerog migrate``, and works once it was run."""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Iterator

import psycopg
import pytest

from tests.backends.support import postgres_server
from tests.backends.support.helpers import put_job
from tests.backends.support.pg_cluster import Cluster
from tests.worker.pool import ROOT, clean_env
from zerog.backends import open_backend
from zerog.backends.postgres import SCHEMA_VERSION, PostgresBackend
from zerog.errors import ConfigurationError

TRIGGERS = {"jobs_put_notify", "jobs_ready_notify", "queues_resumed_notify", "history_cap"}


@pytest.fixture
def url() -> str:
    return postgres_server.url()


def _schema(url: str) -> str:
    return url.rsplit("=", 1)[1]


def _admin_of(url: str) -> psycopg.Connection[tuple[object, ...]]:
    """A plain connection to the URL's database, as the URL's user."""
    return psycopg.connect(url.split("?")[0], autocommit=True)


def _downgrade_to_1(url: str) -> None:
    """Leave the URL's schema as zerog's schema version 1 made it (no NOTIFY triggers, no
    lease index)."""
    schema = _schema(url)
    with _admin_of(url) as conn:
        conn.execute(f'DROP TRIGGER jobs_put_notify ON "{schema}".jobs')
        conn.execute(f'DROP TRIGGER jobs_ready_notify ON "{schema}".jobs')
        conn.execute(f'DROP TRIGGER queues_resumed_notify ON "{schema}".queues')
        conn.execute(f'DROP FUNCTION "{schema}".notify_ready()')
        conn.execute(f'DROP INDEX "{schema}".jobs_leases')
        conn.execute(f'ALTER TABLE "{schema}".jobs RESET (fillfactor)')
        conn.execute(f"UPDATE \"{schema}\".meta SET value = '1' WHERE key = 'schema_version'")


def _state_of(url: str) -> tuple[str, set[str]]:
    """The schema's recorded version and the names of its triggers."""
    schema = _schema(url)
    with _admin_of(url) as conn:
        row = conn.execute(
            f"SELECT value FROM \"{schema}\".meta WHERE key = 'schema_version'"
        ).fetchone()
        triggers = conn.execute(
            "SELECT tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND NOT t.tgisinternal",
            (schema,),
        ).fetchall()
    assert row is not None
    return str(row[0]), {name for (name,) in triggers}


def _zerog(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "zerog", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=clean_env(),
        cwd=ROOT,
        check=False,
    )


def test_a_version_1_schema_is_migrated_when_opened_and_keeps_its_jobs(url: str) -> None:
    # Given a schema as version 1 left it, holding a job
    first = open_backend(url)
    uuid_ = put_job(first)
    first.close()
    _downgrade_to_1(url)
    assert _state_of(url) == ("1", {"history_cap"})
    # When this zerog opens it
    again = open_backend(url)
    try:
        # Then it is at the current version with its triggers, and the job is there
        assert _state_of(url) == (str(SCHEMA_VERSION), TRIGGERS)
        assert again.get(uuid_)["state"] == "waiting"
    finally:
        again.close()


def test_a_schema_of_a_later_version_is_refused(url: str) -> None:
    open_backend(url).close()
    with _admin_of(url) as conn:
        conn.execute(
            f"UPDATE \"{_schema(url)}\".meta SET value = '99' WHERE key = 'schema_version'"
        )
    with pytest.raises(ConfigurationError, match="later zerog"):
        open_backend(url)
    assert _state_of(url)[0] == "99"  # never written to.


def test_zerog_migrate_creates_migrates_and_checks(url: str) -> None:
    created = _zerog("migrate", "--url", url)
    assert created.returncode == 0, created.stderr
    assert f"created zerog's tables at schema version {SCHEMA_VERSION}" in created.stdout
    assert _zerog("migrate", "--check", "--url", url).returncode == 0
    _downgrade_to_1(url)
    due = _zerog("migrate", "--check", "--url", url)
    assert due.returncode == 1
    assert "a migration is due" in due.stdout
    assert _state_of(url)[0] == "1"  # --check changes nothing.
    migrated = _zerog("migrate", "--url", url)
    assert migrated.returncode == 0, migrated.stderr
    assert f"migrated from schema version 1 to {SCHEMA_VERSION}" in migrated.stdout
    assert _state_of(url) == (str(SCHEMA_VERSION), TRIGGERS)
    again = _zerog("migrate", "--url", url)
    assert f"already at schema version {SCHEMA_VERSION}" in again.stdout


@pytest.fixture
def app_role(cluster: Cluster) -> Iterator[str]:
    """A login role of the test's own cluster that may use a schema's tables but not change
    them (its name; the schema is named after it and owned by postgres)."""
    role = f"app_{uuid.uuid4().hex[:8]}"
    with cluster.connect() as conn:
        conn.execute(f"CREATE ROLE {role} LOGIN")
    yield role
    with cluster.connect() as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {role} CASCADE")
        conn.execute(f"DROP OWNED BY {role}")
        conn.execute(f"DROP ROLE {role}")


def _grant_use(cluster: Cluster, role: str) -> None:
    with cluster.connect() as conn:
        conn.execute(f"GRANT USAGE ON SCHEMA {role} TO {role}")
        conn.execute(
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {role} TO {role}"
        )
        conn.execute(f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA {role} TO {role}")


def test_a_role_that_may_not_migrate_is_told_to_run_zerog_migrate(
    cluster: Cluster, app_role: str
) -> None:
    # Given a schema of version 1 made by its owner, which the application's role may use
    owner_url = f"{cluster.url()}?schema={app_role}"
    app_url = owner_url.replace("postgres@", f"{app_role}@", 1)
    open_backend(owner_url).close()
    _downgrade_to_1(owner_url)
    _grant_use(cluster, app_role)
    # When the application's role opens it, it is told what to do, and nothing changed
    with pytest.raises(ConfigurationError, match=r"run `zerog migrate <url>` once as a role"):
        open_backend(app_url)
    assert _state_of(owner_url)[0] == "1"
    # Then once the owner ran zerog migrate, the application's role works on it
    done = _zerog("migrate", "--url", owner_url)
    assert done.returncode == 0, done.stderr
    backend = open_backend(app_url)
    try:
        assert isinstance(backend, PostgresBackend)
        uuid_ = put_job(backend)  # the NOTIFY trigger runs for this role too.
        assert backend.get(uuid_)["state"] == "waiting"
    finally:
        backend.close()
