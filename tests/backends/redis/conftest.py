"""Fixtures of the Redis tests: a fresh store (a key prefix of its own) on the session's
redis-server, and plain clients to look at what Redis holds."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis

from tests.backends.support import redis_server
from zerog.backends import open_backend
from zerog.backends.redis import RedisBackend
from zerog.store import Store
from zerog.testing import FakeClock


@pytest.fixture
def url() -> str:
    """A fresh store on the session's redis-server."""
    return redis_server.shared().url()


@pytest.fixture
def backend(url: str) -> Iterator[RedisBackend]:
    """The store at ``url``, on the server's clock."""
    opened = open_backend(url)
    assert isinstance(opened, RedisBackend)
    yield opened
    opened.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def faked(url: str, clock: FakeClock) -> Iterator[RedisBackend]:
    """The store at ``url``, on a fake clock."""
    opened = open_backend(url, clock=clock)
    assert isinstance(opened, RedisBackend)
    yield opened
    opened.close()


@pytest.fixture
def store(backend: RedisBackend) -> Store:
    return Store(backend)


@pytest.fixture
def client() -> Iterator[redis.Redis]:
    """A plain client of the session's server."""
    plain = redis.Redis(port=redis_server.shared().port)
    yield plain
    plain.close()
