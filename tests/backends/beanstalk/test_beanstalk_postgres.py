"""beanstalk with its records in PostgreSQL (``store=postgresql://...``).

The conformance and reliability suites run on this store as ``beanstalk-postgres``, and the
crash tests (a process killed between the two writes of a step) in
test_beanstalk_crashes.py; these tests add the store's URL percent-encoded with an option of
its own (the schema), the ``beanstalk_*`` tables made in that schema, and an entry beanstalkd
lost made again.
"""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import greenstalk
import pytest

from tests.backends.beanstalk.test_beanstalk_crashes import entries
from tests.backends.support import beanstalkd, postgres_server
from tests.backends.support.helpers import completed, put_job, reserve, take
from zerog.backends import open_backend
from zerog.backends.beanstalk import BeanstalkBackend
from zerog.model import State

TABLES = {"jobs", "beanstalk_entries", "beanstalk_meta", "beanstalk_parked", "beanstalk_gone"}


@pytest.fixture
def schema() -> str:
    """A fresh schema of the session's database, for this test alone."""
    return f"t_{uuid.uuid4().hex[:16]}"


@pytest.fixture
def url(schema: str) -> str:
    """beanstalk:// on the session's beanstalkd, its records in ``schema``."""
    return beanstalkd.shared().url(postgres_server.url(schema))


@pytest.fixture
def backend(url: str) -> Iterator[BeanstalkBackend]:
    opened = open_backend(url)
    assert isinstance(opened, BeanstalkBackend)
    yield opened
    opened.close()


@pytest.fixture
def tube(backend: BeanstalkBackend) -> Iterator[greenstalk.Client[str]]:
    """A plain client using the test's tube "q", to look at what beanstalkd holds."""
    client = greenstalk.Client(backend.address, use=backend.entries.tube("q"))
    yield client
    client.close()


def test_a_percent_encoded_postgres_store_keeps_the_records_in_its_schema(
    url: str, schema: str, backend: BeanstalkBackend
) -> None:
    # Given a beanstalk URL whose store is a PostgreSQL URL with ?schema=, percent-encoded
    assert "store=postgresql%3A%2F%2F" in url
    assert f"%3Fschema%3D{schema}" in url
    # When a job is put, run and completed
    uuid_ = put_job(backend)
    backend.settle(take(backend).lease, completed())
    # Then it ran once, and its record and the entry bookkeeping are in that schema
    assert backend.get(uuid_)["state"] == State.COMPLETE
    assert reserve(backend) is None
    with postgres_server.connect() as conn:
        found = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
            (schema,),
        ).fetchall()
        (count,) = conn.execute(f'SELECT count(*) FROM "{schema}".jobs').fetchone() or (0,)
    assert {name for (name,) in found} >= TABLES
    assert count == 1


def test_a_second_opening_finds_the_tables_made(url: str, backend: BeanstalkBackend) -> None:
    # Given a store made by a first opening, holding a job
    uuid_ = put_job(backend)
    # When another backend opens it / Then it sees the job, and runs it
    other = open_backend(url)
    try:
        assert other.get(uuid_)["state"] == State.WAITING
        assert take(other).lease.uuid == uuid_
    finally:
        other.close()


def test_an_entry_lost_by_beanstalkd_is_made_again_by_the_reconciler(
    backend: BeanstalkBackend, tube: greenstalk.Client[str]
) -> None:
    # Given a waiting job whose entry beanstalkd lost (deleted by hand)
    uuid_ = put_job(backend)
    tube.delete(tube.peek_ready())
    assert entries(tube) == {}
    # When the reconciler runs / Then the job has an entry again, and runs
    backend.rescue_expired()
    assert entries(tube) == {"ready": 1}
    assert take(backend).lease.uuid == uuid_


def test_a_sqlite_store_needs_no_psycopg(tmp_path: Path) -> None:
    # Given a process where psycopg cannot be imported (zerog[beanstalk] without [postgres])
    script = (
        "import sys; sys.modules['psycopg'] = None\n"
        "from zerog.backends import open_backend\n"
        f"open_backend({beanstalkd.shared().url(tmp_path / 'jobs.db')!r}).close()\n"
    )
    # When it opens beanstalk with a SQLite store / Then it works
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
