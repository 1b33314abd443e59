"""A record whose document was damaged outside zerog stops nothing: readers show it as
unreadable, the first worker that meets it quarantines it (failed, raw text kept), and
every other job goes on. SQLite stores the text as it is, so it can hold malformed JSON;
both engines can hold a document of the wrong shape."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.backends.support import postgres_server
from tests.backends.support.helpers import events, put_job, reserve, take
from zerog.backends import open_backend
from zerog.backends.contract import Backend
from zerog.model import ListQuery
from zerog.testing import FakeClock

START = 1_700_000_000.0


@pytest.fixture
def sqlite(tmp_path: Path) -> Iterator[tuple[Backend, Path]]:
    clock = FakeClock(START)
    path = tmp_path / "jobs.db"
    backend = open_backend(f"sqlite:///{path}", clock=clock)
    yield backend, path
    backend.close()


def damage(path: Path, uuid: str, doc: str) -> None:
    """Write ``doc`` over the job's document, as a hand with the sqlite3 shell would."""
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE jobs SET doc = ? WHERE uuid = ?", (doc, uuid))


def test_readers_show_a_damaged_record_and_change_nothing(sqlite: tuple[Backend, Path]) -> None:
    backend, path = sqlite
    bad, good = put_job(backend), put_job(backend)
    damage(path, bad, '{"values": {"half')
    # Every reader answers: the damaged one shown as such, with its raw text
    shown = backend.get(bad, history=True)
    assert shown["state"] == "waiting"
    assert shown["unreadable"].startswith("its document is not JSON")
    assert shown["raw"] == '{"values": {"half'
    listed = backend.list(ListQuery(limit=10)).records
    assert {r["uuid"] for r in listed} == {bad, good}
    assert backend.counts() == {"q": {"waiting": 2}}
    assert backend.get(bad)["state"] == "waiting"  # a read quarantines nothing.


def test_a_claim_quarantines_a_damaged_job_and_takes_the_next(
    sqlite: tuple[Backend, Path],
) -> None:
    backend, path = sqlite
    bad, good = put_job(backend), put_job(backend)
    damage(path, bad, "not json at all")
    # When a worker claims / Then it gets the healthy job, and the damaged one is failed
    assert take(backend).lease.uuid == good
    record = backend.get(bad, history=True)
    assert record["state"] == "failed"
    assert record["errors"][-1]["msg"].startswith("unreadable record: its document is not JSON")
    assert record["raw"] == "not json at all"
    assert events(backend, bad)[-1] == "quarantined"
    assert reserve(backend) is None


def test_a_rescue_quarantines_a_damaged_running_job_and_rescues_the_others(
    sqlite: tuple[Backend, Path],
) -> None:
    backend, path = sqlite
    bad, good = put_job(backend, ttr_seconds=10.0), put_job(backend, ttr_seconds=10.0)
    take(backend), take(backend)
    damage(path, bad, '{"errors": ')
    backend.clock.advance(11.0)  # type: ignore[attr-defined]
    moved = backend.rescue_expired()
    assert set(moved) == {bad, good}
    assert backend.get(bad)["state"] == "failed"
    assert backend.get(good)["state"] == "waiting"


def test_a_document_of_the_wrong_shape_is_unreadable_too(sqlite: tuple[Backend, Path]) -> None:
    backend, path = sqlite
    bad = put_job(backend)
    damage(path, bad, '{"values": [], "events": "not a list", "tags": {}}')
    assert backend.get(bad)["unreadable"] == "its 'tags' is a dict, not a list"
    assert reserve(backend) is None  # claimed, found unreadable, quarantined.
    assert backend.get(bad)["state"] == "failed"


def test_on_postgresql_a_document_of_the_wrong_shape_is_quarantined() -> None:
    # jsonb refuses malformed JSON, but not a value of the wrong shape
    url = postgres_server.url()
    backend = open_backend(url)
    try:
        bad, good = put_job(backend), put_job(backend)
        schema = url.rsplit("schema=", 1)[1]
        with psycopg.connect(postgres_server.database_url(), autocommit=True) as conn:
            conn.execute(
                f'UPDATE "{schema}".jobs SET doc = %s::jsonb WHERE uuid = %s',
                ('{"values": 5, "events": "x"}', bad),
            )
        assert "unreadable" in backend.get(bad)
        assert take(backend).lease.uuid == good
        assert backend.get(bad)["state"] == "failed"
    finally:
        backend.close()
