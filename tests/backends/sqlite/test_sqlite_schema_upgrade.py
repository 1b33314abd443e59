"""SQLite: a file made by an older zerog (schema version 1 or 2) is upgraded when opened."""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
from pathlib import Path

import pytest

from tests.backends.conftest import START
from tests.backends.support.helpers import completed, put_job, reserve, take
from zerog.backends.sql.statements import COLUMNS
from zerog.backends.sqlite import SqliteBackend
from zerog.backends.sqlite._sql import SCHEMA_VERSION
from zerog.model import Change, ListQuery, Retention
from zerog.record import JobSpec, new_record
from zerog.testing import FakeClock


def make_version_1(path: Path) -> str:
    """A file as zerog's schema version 1 left it (no queues or workers table), with a job."""
    backend = SqliteBackend(path)
    uuid = put_job(backend, "a")
    backend.close()
    with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as conn:
        conn.execute("DROP TABLE queues")
        conn.execute("DROP TABLE workers")
        conn.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
    return uuid


def version_of(path: Path) -> str:
    with contextlib.closing(sqlite3.connect(path)) as conn:
        row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        return str(row[0])


def test_a_version_1_file_is_upgraded_and_keeps_its_jobs(tmp_path: Path) -> None:
    # Given a file of schema version 1 holding a job
    path = tmp_path / "old.db"
    uuid = make_version_1(path)
    # When this zerog opens it
    backend = SqliteBackend(path)
    try:
        # Then it is at the current version, the job is there, and the new tables work
        assert version_of(path) == SCHEMA_VERSION
        backend.pause_queue("a", True)
        assert reserve(backend, "a") is None
        backend.pause_queue("a", False)
        reservation = reserve(backend, "a")
        assert reservation is not None
        assert reservation.lease.uuid == uuid
        backend.register_worker({"id": "w1", "started_at": 1.0})
        assert [w["id"] for w in backend.workers(60.0)] == ["w1"]
    finally:
        backend.close()


@pytest.mark.parametrize("version", ["1", "2"])
def test_many_openers_of_an_old_file_upgrade_it_once(tmp_path: Path, version: str) -> None:
    # Given a file of schema version 1 or 2
    path = tmp_path / "old.db"
    if version == "1":
        make_version_1(path)
    else:
        make_version_2(path, {"old": "waiting"})
    barrier = threading.Barrier(4)
    opened: list[SqliteBackend] = []
    failures: list[BaseException] = []

    def open_it() -> None:
        barrier.wait()
        try:
            opened.append(SqliteBackend(path))
        except BaseException as exc:
            failures.append(exc)

    # When four openers start at the same moment
    threads = [threading.Thread(target=open_it) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    for backend in opened:
        backend.close()
    # Then every one of them opened it, upgraded
    assert failures == []
    assert len(opened) == 4
    assert version_of(path) == SCHEMA_VERSION


VERSION_2_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE jobs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, uuid TEXT NOT NULL UNIQUE, queue TEXT NOT NULL,
    type TEXT NOT NULL, state TEXT NOT NULL, priority INTEGER NOT NULL, ready_at REAL NOT NULL,
    expires_at REAL, ttr_seconds REAL NOT NULL, max_retries INTEGER NOT NULL,
    attempts INTEGER NOT NULL, lease_token INTEGER NOT NULL, lease_expires_at REAL,
    worker TEXT, control TEXT, created_at REAL NOT NULL, updated_at REAL NOT NULL,
    started_at REAL, finished_at REAL, doc TEXT NOT NULL
);
CREATE INDEX jobs_ready ON jobs (queue, priority, seq, ready_at)
    WHERE state IN ('waiting', 'scheduled');
CREATE INDEX jobs_ttl ON jobs (expires_at)
    WHERE state IN ('waiting', 'scheduled') AND expires_at IS NOT NULL;
CREATE INDEX jobs_by_state ON jobs (state, seq);
CREATE INDEX jobs_by_queue ON jobs (queue, seq);
CREATE INDEX jobs_by_type ON jobs (type, seq);
CREATE TABLE tags (tag TEXT NOT NULL, job INTEGER NOT NULL, PRIMARY KEY (tag, job)) WITHOUT ROWID;
CREATE TABLE history (
    job INTEGER NOT NULL, n INTEGER NOT NULL, at REAL NOT NULL, event TEXT NOT NULL,
    state TEXT NOT NULL, worker TEXT, detail TEXT, PRIMARY KEY (job, n)
) WITHOUT ROWID;
CREATE TABLE queues (name TEXT PRIMARY KEY, paused_at REAL) WITHOUT ROWID;
CREATE TABLE workers (
    id TEXT PRIMARY KEY, started_at REAL, last_seen REAL NOT NULL, doc TEXT NOT NULL
) WITHOUT ROWID;
INSERT INTO meta (key, value) VALUES ('schema_version', '2');
"""
COLUMN_KEYS = COLUMNS  # the jobs table's columns did not change in version 3.
VERSION_3_KEYS = ("depends", "dependents", "blocked_by", "throttles", "unique_key", "tracked")


def make_version_2(path: Path, jobs: dict[str, str]) -> None:
    """A file as zerog's schema version 2 left it, holding jobs (uuid -> state) whose
    documents lack the keys version 3 added."""
    with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as conn:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.executescript(VERSION_2_SCHEMA)
        for uuid, state in jobs.items():
            record = new_record(JobSpec(type="t", queue="old", uuid=uuid, tags=["v2"]), START)
            record["state"] = state
            record["finished_at"] = START if state == "complete" else None
            doc = {k: v for k, v in record.items() if k not in (*COLUMN_KEYS, *VERSION_3_KEYS)}
            doc.pop("recurrence")
            names = ", ".join([*COLUMN_KEYS, "doc"])
            marks = ", ".join("?" * (len(COLUMN_KEYS) + 1))
            values = [record[k] for k in COLUMN_KEYS]
            cursor = conn.execute(
                f"INSERT INTO jobs ({names}) VALUES ({marks})", [*values, json.dumps(doc)]
            )
            conn.execute("INSERT INTO tags VALUES ('v2', ?)", (cursor.lastrowid,))
            conn.execute(
                "INSERT INTO history VALUES (?, 1, ?, 'put', ?, NULL, NULL)",
                (cursor.lastrowid, START, state),
            )


def _schema_of(path: Path) -> set[tuple[str, str]]:
    with contextlib.closing(sqlite3.connect(path)) as conn:
        rows = conn.execute("SELECT type, name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'")
        return set(rows.fetchall())


def test_a_version_2_file_is_upgraded_and_its_jobs_take_part_in_the_new_steps(
    tmp_path: Path,
) -> None:
    # Given a version 2 file with a waiting job and a complete one
    path = tmp_path / "v2.db"
    make_version_2(path, {"old-waiting": "waiting", "old-done": "complete"})
    clock = FakeClock(START + 10.0)
    # When this zerog opens it
    backend = SqliteBackend(path, clock)
    try:
        # Then it has this version's tables and indexes, and the old jobs read with the new keys
        assert _schema_of(path) == _fresh_schema(tmp_path)
        old = backend.get("old-waiting")
        assert (old["depends"], old["dependents"], old["blocked_by"]) == ([], [], {})
        assert (old["tracked"], old["unique_key"], old["recurrence"]) == (False, None, None)
        # and they take part in dependencies, tracking, tags and retention
        after = put_job(backend, "new", depends=["old-waiting", "old-done"])
        assert backend.get(after)["depends"] == ["old-waiting"]
        assert backend.get("old-waiting")["dependents"] == [after]
        backend.alter("old-waiting", Change(tracked=True, add_tags=["kept"]))
        assert [r["uuid"] for r in backend.list(ListQuery(tracked=True)).records] == ["old-waiting"]
        backend.settle(take(backend, "old").lease, completed())
        assert backend.get(after)["state"] == "waiting"
        keep = Retention(jobs_seconds=1e9, jobs_count=1, stats_days=30, histogram_days=7)
        assert backend.prune(keep) == 1
        assert backend.top_tags() == [("kept", 1), ("v2", 1)]
    finally:
        backend.close()
    assert version_of(path) == SCHEMA_VERSION == "4"


def _fresh_schema(tmp_path: Path) -> set[tuple[str, str]]:
    fresh = tmp_path / "fresh.db"
    SqliteBackend(fresh).close()
    return _schema_of(fresh)
