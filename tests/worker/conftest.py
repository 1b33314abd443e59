"""Fixtures of the worker tests: a fresh SQLite store per test, used as the process's store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import zerog
from tests.backends.support import postgres_server
from tests.worker import pool_jobs  # noqa: F401 - registers the pool's job classes here too.
from zerog.store import Store


@pytest.fixture
def sqlite(tmp_path: Path) -> Iterator[Store]:
    """A store on a new SQLite file in ``tmp_path``; the default store during the test."""
    previous = zerog.store._default
    store = zerog.use(f"sqlite:///{tmp_path / 'jobs.db'}")
    assert store is not None
    yield store
    zerog.use(previous)
    store.close()


@pytest.fixture(scope="session", autouse=True)
def _drop_postgres_database() -> Iterator[None]:
    """Drop the session's PostgreSQL database, if a test made one (the wake-up tests)."""
    yield
    postgres_server.stop_shared()
