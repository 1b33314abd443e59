"""SQLite's fair share costs an index lookup per key, not a scan of the queue: the statements
a fair claim runs use the ``jobs_fair`` index, and a queue without keys keeps the fast path."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from zerog.backends.sql.share import STATEMENTS
from zerog.record import JobSpec
from zerog.store import open_store

PARAMS = {"queue": "q", "key": "small", "priority": 0, "now": 1e12}


def _plan(path: Path, sql: str) -> str:
    with sqlite3.connect(path) as conn:
        rows = conn.execute("EXPLAIN QUERY PLAN " + sql, PARAMS).fetchall()
    return " | ".join(str(row[-1]) for row in rows)


def test_a_key_s_next_job_is_one_index_lookup(tmp_path: Path) -> None:
    path = tmp_path / "jobs.db"
    store = open_store(f"sqlite:///{path}")
    specs = [JobSpec(type="t", queue="q", fair_key="big") for _ in range(50)]
    store.enqueue_many([*specs, JobSpec(type="t", queue="q", fair_key="small")])
    store.close()
    for name in ("first_of_key", "key_queued"):
        assert "USING INDEX jobs_fair" in _plan(path, STATEMENTS["sqlite"][name]), name


def test_a_damaged_document_stays_writable(tmp_path: Path) -> None:
    path = tmp_path / "jobs.db"
    store = open_store(f"sqlite:///{path}")
    uuid = store.enqueue(JobSpec(type="t", queue="q", fair_key="a"))
    store.close()
    with sqlite3.connect(path) as conn:  # json_valid keeps it out of the index, so no error.
        conn.execute("UPDATE jobs SET doc = 'not json' WHERE uuid = ?", (uuid,))
        conn.execute("UPDATE jobs SET priority = 3 WHERE uuid = ?", (uuid,))
