"""Reliability tests run real worker pools and hurt them: kill -9, SIGSTOP, jobs that hold
the GIL or ignore a cancel. Each backend adds its store here, and every test runs once per
store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import zerog
from tests.backends.support import beanstalkd, postgres_server, redis_server
from tests.worker import pool_jobs  # noqa: F401 - registers the pool's job classes here too.
from zerog.store import Store

STORES = ("sqlite", "beanstalk", "postgres", "beanstalk-postgres", "redis")


def _url(kind: str, tmp_path: Path) -> str:
    if kind == "beanstalk":  # the session's beanstalkd, tubes of the test's own.
        return beanstalkd.shared().url(tmp_path / "jobs.db")
    if kind == "postgres":  # the session's database, a schema of the test's own.
        return postgres_server.url()
    if kind == "redis":  # the session's redis-server, a key prefix of the test's own.
        return redis_server.shared().url()
    if kind == "beanstalk-postgres":  # both of the session's servers, tubes and a schema.
        return beanstalkd.shared().url(postgres_server.url())
    return f"sqlite:///{tmp_path / 'jobs.db'}"


@pytest.fixture(params=STORES)
def sqlite(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """The store under test, on a fresh file (and tubes), as the process's default store.
    It keeps the name of the first backend the suite ran on, so the tests need no change."""
    previous = zerog.store._default
    store = zerog.use(_url(request.param, tmp_path))
    assert store is not None
    yield store
    zerog.use(previous)
    store.close()


@pytest.fixture(scope="session", autouse=True)
def _stop_shared_servers() -> Iterator[None]:
    """Stop the beanstalkd and redis-server the session started, and drop its PostgreSQL
    database, if any."""
    yield
    beanstalkd.stop_shared()
    postgres_server.stop_shared()
    redis_server.stop_shared()
