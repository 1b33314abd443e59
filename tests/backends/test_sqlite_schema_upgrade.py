"""SQLite: a file made by an older zerog (schema version 1) is upgraded when opened."""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from pathlib import Path

from zerog.backends.sqlite import SqliteBackend
from zerog.backends.sqlite._sql import SCHEMA_VERSION

from .helpers import put_job, reserve


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


def test_many_openers_of_a_version_1_file_upgrade_it_once(tmp_path: Path) -> None:
    # Given a file of schema version 1
    path = tmp_path / "old.db"
    make_version_1(path)
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
