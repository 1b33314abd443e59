"""Fixtures of the faces' tests: real SQLite stores in temporary files."""

from __future__ import annotations

import pytest

import zerog
from zerog import store as store_module
from zerog import testing
from zerog.backends import open_backend
from zerog.settings import Settings
from zerog.store import Store


@pytest.fixture
def clock():
    return testing.FakeClock()


@pytest.fixture
def sqlite_url(tmp_path):
    return f"sqlite:///{tmp_path / 'faces.db'}"


@pytest.fixture
def timed_store(sqlite_url, clock):
    """A SQLite store whose time moves only when the test moves ``clock``."""
    opened = Store(open_backend(sqlite_url, clock=clock), Settings(url=sqlite_url))
    yield opened
    opened.close()


@pytest.fixture
def process_store(sqlite_url):
    """A SQLite store made the process's store (what ``qless.client()`` opens)."""
    opened = Store.from_url(sqlite_url)
    previous = store_module._default
    zerog.use(opened)
    yield opened
    zerog.use(previous)
    opened.close()
