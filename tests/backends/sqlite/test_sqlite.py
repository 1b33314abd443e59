"""SQLite-specific behaviour beside the conformance suite: URLs, locking, forks, the schema,
and records that equal the memory backend's step for step."""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.backends.conftest import START
from tests.backends.support.helpers import job_record, put_job, take
from zerog.backends import open_backend
from zerog.backends.contract import Backend, Capability, Role, roles_of
from zerog.backends.memory import MemoryBackend
from zerog.backends.sqlite import SqliteBackend
from zerog.backends.sqlite._sql import Q
from zerog.errors import BackendUnavailable, ConfigurationError
from zerog.model import Lease, ListQuery, Progress, Settlement
from zerog.record import error_entry
from zerog.store import Store
from zerog.testing import FakeClock


@pytest.fixture
def opened(tmp_path: Path) -> Iterator[Callable[..., SqliteBackend]]:
    """Opens SQLite backends (by URL or path); closes them all after the test."""
    backends: list[SqliteBackend] = []

    def open_(target: str | Path, **kwargs: Any) -> SqliteBackend:
        backend = (
            open_backend(target) if isinstance(target, str) else SqliteBackend(target, **kwargs)
        )
        assert isinstance(backend, SqliteBackend)
        backends.append(backend)
        return backend

    yield open_
    for backend in backends:
        backend.close()


def _raw(path: Path) -> contextlib.closing[sqlite3.Connection]:
    return contextlib.closing(sqlite3.connect(path, isolation_level=None))


# --- URLs and options ---------------------------------------------------------------------------


def test_url_with_a_relative_path(
    opened: Callable[..., SqliteBackend], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a working directory with a "data" directory
    (tmp_path / "data").mkdir()
    monkeypatch.chdir(tmp_path)
    # When a backend opens sqlite:///data/jobs.db
    put_job(opened("sqlite:///data/jobs.db"))
    # Then the file is data/jobs.db under the working directory
    assert (tmp_path / "data" / "jobs.db").is_file()


def test_url_with_an_absolute_path_and_options(
    opened: Callable[..., SqliteBackend], tmp_path: Path
) -> None:
    # Given an absolute path (four slashes) with both options
    path = tmp_path / "abs.db"
    backend = opened(f"sqlite:///{path}?synchronous=full&busy_timeout=0.25")
    # When its connection is asked / Then the file, WAL mode and the options are in force
    conn = backend.database.connection()
    assert backend.path == str(path)
    assert path.is_file()
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == 250


def test_default_options(opened: Callable[..., SqliteBackend], tmp_path: Path) -> None:
    conn = opened(f"sqlite:///{tmp_path / 'd.db'}").database.connection()
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
    assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == 5000


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("sqlite:///{tmp}/missing/dir/jobs.db", "missing/dir"),
        ("sqlite:///{tmp}/j.db?synchronous=off", "synchronous"),
        ("sqlite:///{tmp}/j.db?busy_timeout=soon", "busy_timeout"),
        ("sqlite:///{tmp}/j.db?busy_timeout=-1", "busy_timeout"),
        ("sqlite:///{tmp}/j.db?journal=delete", "journal"),
        ("sqlite://jobs.db", "sqlite:///relative"),
        ("sqlite://", "names no database"),
        ("sqlite:///:memory:", "memory://"),
        ("sqlite:///{tmp}", "is a directory"),
    ],
)
def test_bad_urls_are_configuration_errors(tmp_path: Path, url: str, message: str) -> None:
    # Given a bad URL / When it is opened / Then ConfigurationError names what is wrong
    with pytest.raises(ConfigurationError, match=message):
        open_backend(url.format(tmp=tmp_path))


def test_capabilities(opened: Callable[..., SqliteBackend], tmp_path: Path) -> None:
    backend = opened(tmp_path / "c.db")
    assert Capability.MULTI_PROCESS in backend.capabilities
    assert roles_of(backend) == frozenset(Role)


# --- locking ------------------------------------------------------------------------------------


def test_a_lock_held_too_long_is_backend_unavailable_not_database_is_locked(
    opened: Callable[..., SqliteBackend], tmp_path: Path
) -> None:
    # Given another connection holding the write lock, and a backend that waits 0.3 s in all
    path = tmp_path / "locked.db"
    backend = opened(path, busy_timeout_seconds=0.05, lock_wait_seconds=0.3)
    with _raw(path) as other:
        other.execute("BEGIN IMMEDIATE")
        # When a job is put
        with pytest.raises(BackendUnavailable, match="stayed locked") as raised:
            put_job(backend)
        other.execute("ROLLBACK")
    # Then the error names the file, comes from SQLite's busy error, and nothing was stored
    assert str(path) in str(raised.value)
    assert isinstance(raised.value.__cause__, sqlite3.OperationalError)
    assert backend.busy_retries > 0
    assert backend.list(ListQuery()).records == []


def test_a_lock_held_longer_than_busy_timeout_is_waited_out(
    opened: Callable[..., SqliteBackend], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given another connection holding the write lock past the backend's busy timeout
    path = tmp_path / "busy.db"
    backend = opened(path, busy_timeout_seconds=0.02)
    retrying = threading.Event()
    pause = backend.database._pause

    def observed_pause(seconds: float) -> None:
        retrying.set()
        pause(seconds)

    monkeypatch.setattr(backend.database, "_pause", observed_pause)
    done: list[str] = []
    with _raw(path) as other:
        other.execute("BEGIN IMMEDIATE")
        # When a thread puts a job meanwhile, and the lock is freed once it had to retry
        putter = threading.Thread(target=lambda: done.append(put_job(backend)))
        putter.start()
        assert retrying.wait(10)
        assert done == []
        other.execute("COMMIT")
        putter.join(10)
    # Then the put went through
    assert len(done) == 1
    assert backend.get(done[0])["state"] == "waiting"


def test_a_file_that_is_not_a_database_is_a_configuration_error(tmp_path: Path) -> None:
    # Given a file that holds something else / When opened / Then ConfigurationError names it
    path = tmp_path / "notes.db"
    path.write_text("these are not the jobs you are looking for " * 100)
    with pytest.raises(ConfigurationError, match=r"notes\.db"):
        SqliteBackend(path)


def test_put_many_stores_all_or_nothing(
    opened: Callable[..., SqliteBackend], tmp_path: Path
) -> None:
    # Given a stored job, and a batch whose last record repeats its uuid
    backend = opened(tmp_path / "batch.db")
    put_job(backend, uuid="dup")
    batch = [job_record(backend), job_record(backend), job_record(backend, uuid="dup")]
    # When the batch is put / Then it is refused as a whole
    with pytest.raises(ValueError, match="dup"):
        backend.put_many(batch)
    assert [r["uuid"] for r in backend.list(ListQuery()).records] == ["dup"]


# --- connections, threads and forks -------------------------------------------------------------


def test_each_thread_has_its_own_connection_and_close_closes_all(
    opened: Callable[..., SqliteBackend], tmp_path: Path
) -> None:
    # Given a backend used from this thread and from another one
    backend = opened(tmp_path / "threads.db")
    mine = backend.database.connection()
    theirs: list[sqlite3.Connection] = []
    thread = threading.Thread(target=lambda: theirs.append(backend.database.connection()))
    thread.start()
    thread.join()
    assert theirs[0] is not mine
    # When the backend is closed
    backend.close()
    # Then both connections are closed and the backend refuses further use
    for conn in (mine, theirs[0]):
        with pytest.raises(sqlite3.ProgrammingError):
            conn.execute("SELECT 1")
    with pytest.raises(BackendUnavailable, match="closed"):
        backend.counts()


def test_connections_of_ended_threads_are_closed(
    opened: Callable[..., SqliteBackend], tmp_path: Path
) -> None:
    # Given a thread that used the backend and ended
    backend = opened(tmp_path / "ended.db")
    theirs: list[sqlite3.Connection] = []
    thread = threading.Thread(target=lambda: theirs.append(backend.database.connection()))
    thread.start()
    thread.join()
    # When a new thread opens its connection / Then the ended thread's one is closed
    other = threading.Thread(target=backend.counts)
    other.start()
    other.join()
    with pytest.raises(sqlite3.ProgrammingError):
        theirs[0].execute("SELECT 1")


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork()")
@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_a_forked_child_never_uses_its_parents_connection(
    opened: Callable[..., SqliteBackend], tmp_path: Path
) -> None:
    # Given a backend whose connection is open in this process
    backend = opened(tmp_path / "fork.db")
    parent_conn = backend.database.connection()
    put_job(backend, "from-parent")
    read_end, write_end = os.pipe()
    # When a forked child uses the same backend object
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child reports through the pipe and never returns.
        code = 1
        try:
            os.close(read_end)
            child_conn = backend.database.connection()
            uuid = put_job(backend, "from-child")
            report = {
                "same": child_conn is parent_conn,
                "uuid": uuid,
                "jobs": len(backend.list(ListQuery()).records),
            }
            os.write(write_end, json.dumps(report).encode())
            code = 0
        finally:
            os._exit(code)
    os.close(write_end)
    with os.fdopen(read_end) as pipe:
        report = json.loads(pipe.read() or "{}")
    _, status = os.waitpid(pid, 0)
    # Then the child opened its own connection and its work is in the file
    assert os.waitstatus_to_exitcode(status) == 0
    assert report["same"] is False
    assert report["jobs"] == 2
    assert backend.get(report["uuid"])["queue"] == "from-child"
    # And the parent still uses its own connection
    assert backend.database.connection() is parent_conn


# --- schema ------------------------------------------------------------------------------------


def test_reopening_a_file_keeps_its_jobs(
    opened: Callable[..., SqliteBackend], tmp_path: Path
) -> None:
    path = tmp_path / "again.db"
    uuid = put_job(opened(path))
    assert opened(path).get(uuid)["uuid"] == uuid


def test_a_file_of_another_schema_version_is_refused(
    opened: Callable[..., SqliteBackend], tmp_path: Path
) -> None:
    # Given a zerog file whose schema version is not this zerog's
    path = tmp_path / "future.db"
    opened(path).close()
    with _raw(path) as conn:
        conn.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    # When it is opened / Then ConfigurationError says which version it has
    with pytest.raises(ConfigurationError, match="'99'"):
        SqliteBackend(path)


def test_a_file_of_another_program_is_refused(tmp_path: Path) -> None:
    # Given a SQLite file with its own "jobs" table / When opened / Then it is refused
    path = tmp_path / "other.db"
    with _raw(path) as conn:
        conn.execute("CREATE TABLE jobs (id INTEGER PRIMARY KEY, name TEXT)")
    with pytest.raises(ConfigurationError):
        SqliteBackend(path)


def test_reserve_and_rescue_read_their_partial_indexes(
    opened: Callable[..., SqliteBackend], tmp_path: Path
) -> None:
    # Given the schema / When the planner explains reserve's and rescue's queries
    conn = opened(tmp_path / "plan.db").database.connection()

    def plan(sql: str, params: dict[str, Any]) -> str:
        return " ".join(row[-1] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}", params))

    # Then each reads its index, in order, with no sort
    reserve_plan = plan(Q.next_ready, {"queue": "q", "now": 0, "limit": 1})
    assert "jobs_ready" in reserve_plan
    assert "TEMP B-TREE" not in reserve_plan
    rescue_plan = plan(Q.to_rescue, {"now": 0, "limit": 1})
    assert "jobs_by_state" in rescue_plan
    assert "jobs_ttl" in rescue_plan


# --- the same records as memory ---------------------------------------------------------------


def _life(backend: Backend, clock: FakeClock) -> list[Any]:
    """Take jobs through most of what can happen to them; return everything readable."""
    store = Store(backend)
    ids = [
        put_job(
            backend,
            uuid=f"j{i}",
            ttr_seconds=10.0,
            max_retries=1,
            tags=["x"],
            values={"i": i},
            ttl_seconds=100.0 if i == 5 else None,
        )
        for i in range(7)
    ]
    seen: list[Any] = [take(backend, worker="w1").record]  # j0 runs
    clock.advance(1)
    store.save(
        take_lease(seen[0]),
        Progress(
            completeness=0.3,
            message="m",
            sample=(clock.now, 0.3),
            events=[{"e": 1}],
            values={"i": 0, "step": 1},
        ),
    )
    store.retry(
        take_lease(seen[0]),
        5.0,
        error_entry(clock.now, 2, "flaky"),
        Progress(events=[{"e": 2}], errors=[{"w": 1}]),
    )
    seen.append(take(backend, worker="w2").record)  # j1 runs
    backend.act("j1", "pause", worker="op")
    store.settle(take_lease(seen[-1]), Settlement.paused(Progress(values={"i": 1, "half": True})))
    backend.act("j2", "cancel", worker="op")
    seen.append(take(backend).record)  # j3 runs
    clock.advance(11)
    seen.append(backend.rescue_expired())  # j3 back
    seen.append(take(backend).record)  # j0 again
    store.complete(take_lease(seen[-1]), {"ok": [1, 2]}, 201)
    seen.append(take(backend).record)  # j3 again
    clock.advance(200)  # j5's TTL
    seen.append(backend.rescue_expired())  # j3 lost
    backend.kick("q", 5)
    backend.act("j1", "resume", worker="op")
    seen.append(store.reserve(["q"], "w3"))
    seen.append(backend.counts())
    seen.append(backend.list(ListQuery(limit=3)))
    seen.extend(backend.get(uuid, history=True) for uuid in ids)
    return seen


def take_lease(record: dict[str, Any]) -> Lease:
    """The lease a reservation's record was taken under."""
    return Lease(record["uuid"], record["lease_token"], record["worker"])


def test_sqlite_keeps_records_exactly_as_memory_does(tmp_path: Path) -> None:
    # Given the same steps on a memory and a SQLite backend, each with its own fake clock
    lives = []
    for make in (MemoryBackend, lambda c: SqliteBackend(tmp_path / "same.db", c)):
        clock = FakeClock(START)
        backend = make(clock)
        try:
            lives.append(_life(backend, clock))
        finally:
            backend.close()
    # When everything readable is compared / Then it is equal, value for value
    assert lives[0] == lives[1]
