"""What the conformance suite cannot see of the PostgreSQL backend: its URL, processes racing
on one schema, connections lost mid-transaction, the server's clock, fork()."""

from __future__ import annotations

import os
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace

import pytest

from tests.backends.sqlite.test_sqlite_processes import run_processes
from tests.backends.support import postgres_server
from tests.backends.support.helpers import completed, events, job_record, put_job, take
from zerog.backends import open_backend
from zerog.backends.postgres import PostgresBackend
from zerog.backends.sql.steps.put import put_row
from zerog.backends.sql.txn import Txn
from zerog.errors import BackendUnavailable, ConfigurationError
from zerog.record import Record

PROCESSES = 4
JOBS = 400


@pytest.fixture
def url() -> str:
    return postgres_server.url()


@pytest.fixture
def pg(url: str) -> Iterator[PostgresBackend]:
    """A backend on a fresh schema, on the server's clock (no fake clock)."""
    backend = open_backend(url)
    assert isinstance(backend, PostgresBackend)
    yield backend
    backend.close()


# --- the URL ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bad", "says"),
    [
        ("postgresql://postgres@127.0.0.1:5432", "names no database"),
        ("postgresql://postgres@127.0.0.1:5432/", "names no database"),
        ("postgresql://postgres@127.0.0.1/test?schema=a-b", "schema must be a plain name"),
        ("postgresql://postgres@127.0.0.1/test?schema=" + "x" * 64, "schema must be"),
        ("postgresql://postgres@127.0.0.1/test?connect_timeout=soon", "connect_timeout"),
        ("postgresql://u:secret@127.0.0.1:99999/test", "bad port"),
    ],
)
def test_bad_urls_say_what_is_wrong(bad: str, says: str) -> None:
    with pytest.raises(ConfigurationError, match=says) as raised:
        open_backend(bad)
    assert "secret" not in str(raised.value)


def test_an_unreachable_server_says_so_at_once() -> None:
    started = time.monotonic()
    url = f"postgresql://u:secret@127.0.0.1:{_free_port()}/test?connect_timeout=2"
    with pytest.raises(BackendUnavailable, match="is the server running") as raised:
        open_backend(url)
    assert "secret" not in str(raised.value)
    assert time.monotonic() - started < 5


def test_an_unknown_libpq_option_is_refused(url: str) -> None:
    with pytest.raises(BackendUnavailable, match="nonsense"):
        open_backend(f"{url}&nonsense=1")


def test_a_missing_driver_names_the_extra(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)
    with pytest.raises(ConfigurationError, match=r"pip install 'zerog\[postgres\]'"):
        open_backend(url)


def test_the_schema_is_made_once_and_kept(url: str) -> None:
    first = open_backend(url)
    uuid = put_job(first)
    first.close()
    again = open_backend(url)  # finds the tables made: the job is there.
    assert again.get(uuid)["state"] == "waiting"
    again.close()


def test_a_schema_with_a_foreign_jobs_table_is_refused(url: str) -> None:
    schema = url.rsplit("=", 1)[1]
    with postgres_server.connect() as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
        conn.execute(f'CREATE TABLE "{schema}".meta (key text PRIMARY KEY, value text)')
        conn.execute(f"INSERT INTO \"{schema}\".meta VALUES ('schema_version', '1')")
        conn.execute(f'CREATE TABLE "{schema}".jobs (id int)')
    with pytest.raises(ConfigurationError, match="did not make"):
        open_backend(url)


# --- processes ---------------------------------------------------------------------------------


def test_processes_opening_a_fresh_schema_at_once_all_succeed(url: str) -> None:
    reports = run_processes("open", url, PROCESSES)
    assert [r["errors"] for r in reports] == [[]] * PROCESSES
    backend = open_backend(url)
    assert backend.counts()["opened"]["waiting"] == PROCESSES
    backend.close()


def test_processes_racing_reserves_never_get_the_same_job(url: str) -> None:
    backend = open_backend(url)
    backend.put_many(job_record(backend) for _ in range(JOBS))
    reports = run_processes("drain", url, PROCESSES)
    assert [r["errors"] for r in reports] == [[]] * PROCESSES
    done = Counter(uuid for report in reports for uuid in report["done"])
    assert len(done) == JOBS
    assert set(done.values()) == {1}
    assert backend.counts()["q"] == {"complete": JOBS}
    backend.close()


# --- lost connections ---------------------------------------------------------------------------


def _terminate(pid: int) -> None:
    with postgres_server.connect() as admin:
        admin.execute("SELECT pg_terminate_backend(%s, 5000)", (pid,))


def test_a_connection_killed_mid_transaction_loses_nothing(pg: PostgresBackend) -> None:
    record = job_record(pg)
    runs: list[int] = []

    def body(txn: Txn) -> None:
        runs.append(1)
        put_row(txn, record)
        if len(runs) == 1:  # the server ends the session before COMMIT: all is rolled back.
            _terminate(txn.conn.raw.info.backend_pid)  # type: ignore[attr-defined]
            txn.conn.execute("SELECT 1")

    pg.transact(body)
    assert len(runs) == 2
    assert pg.retries == 1
    assert events(pg, record["uuid"]) == ["put"]  # stored once, by the second run.


def test_a_connection_killed_while_idle_is_replaced_at_the_next_call(pg: PostgresBackend) -> None:
    uuid = put_job(pg)
    conn = pg.database.connection()
    _terminate(conn.raw.info.backend_pid)
    reservation = take(pg)  # the dead connection is found out, a new one takes the job.
    pg.settle(reservation.lease, completed())
    assert pg.get(uuid)["state"] == "complete"
    assert pg.database.connection() is not conn


def test_a_server_gone_for_good_gives_backend_unavailable(url: str) -> None:
    backend = PostgresBackend.from_url(url)
    try:
        database = backend.database
        pid = database.connection().raw.info.backend_pid
        gone = {**database.options.conninfo, "port": _free_port()}  # nobody listens there.
        database.options = replace(database.options, conninfo=gone, retry_seconds=0.5)
        _terminate(pid)
        with pytest.raises(BackendUnavailable, match="PostgreSQL"):
            put_job(backend)
    finally:
        backend.close()


# --- the server's clock ------------------------------------------------------------------------


def _server_now() -> float:
    with postgres_server.connect() as conn:
        row = conn.execute("SELECT extract(epoch FROM clock_timestamp())::float8").fetchone()
    assert row is not None
    return float(row[0])


def test_times_come_from_the_server_when_no_clock_is_given(
    pg: PostgresBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + 3600.0)  # this host is an hour ahead.
    pg.pause_queue("other", True)  # any write: its time is the server's, read under the lock.
    paused_at = pg.database.read(
        lambda conn: conn.execute("SELECT paused_at FROM queues WHERE name = 'other'").fetchone()
    )[0]
    assert abs(paused_at - _server_now()) < 5.0
    assert abs(pg.clock() - _server_now()) < 5.0  # and the clock follows the server's since.
    record: Record = job_record(pg)
    pg.put(record)
    assert abs(pg.get(record["uuid"], history=True)["history"][0]["at"] - _server_now()) < 5.0
    reservation = take(pg)
    assert abs(reservation.record["lease_expires_at"] - 30.0 - _server_now()) < 5.0


# --- fork() ------------------------------------------------------------------------------------


def test_a_forked_child_opens_its_own_connection_and_leaves_the_parents(
    pg: PostgresBackend,
) -> None:
    put_job(pg)
    parent_pid = pg.database.connection().raw.info.backend_pid
    child = os.fork()
    if child == 0:  # the child: uses the backend, exits without running Python's cleanup.
        code = 1
        try:
            ok = pg.database.connection().raw.info.backend_pid != parent_pid
            put_job(pg, queue="child")
            code = 0 if ok else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert pg.database.connection().raw.info.backend_pid == parent_pid  # still ours, still open.
    assert pg.counts() == {"q": {"waiting": 1}, "child": {"waiting": 1}}


def _free_port() -> int:
    from tests.backends.support.beanstalkd import free_port

    return free_port()
