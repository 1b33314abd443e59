"""The backends under the conformance suite: one ``backend`` fixture over every backend.

The suite is in ``contract/``, one module per part of the contract; engine-specific tests are
in a folder per engine (``sqlite/``, ``postgres/``, ``beanstalk/``, ``sql/`` for both SQL
engines), shared servers and helpers in ``support/``. A test module marks the roles it needs
(``pytestmark = pytest.mark.roles("schedules")``); unmarked tests need only the jobs role. A
test runs on every backend that offers the roles it needs (:data:`ROLES`), so a new backend
can land role by role; ``test_declared_roles_are_the_backends_own`` keeps that table honest.

A new backend adds one opener to :data:`OPENERS`: given the test's ``tmp_path`` and fake clock,
it prepares a fresh, empty store (a file, a key prefix, a cloned database) and returns a
function that opens a backend on it. An opener whose server is not there calls
``pytest.skip``, or ``pytest.fail`` where the server is one the tests need (beanstalkd, installed
by ``make deps``; PostgreSQL, see postgres_server.py).
Every backend opened through the fixtures is closed after the test.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.backends.support import beanstalkd, postgres_server, redis_server
from zerog.backends import open_backend
from zerog.backends.contract import Backend, Role
from zerog.backends.memory import MemoryBackend
from zerog.store import Store
from zerog.testing import FakeClock

START = 1_700_000_000.0  # the fake clock's first reading in every test.

Opener = Callable[[], Backend]


def _memory(tmp_path: Path, clock: FakeClock) -> Opener:
    backend = MemoryBackend(clock=clock)
    return lambda: backend  # one process's memory: every opening sees the same jobs.


def _sqlite(tmp_path: Path, clock: FakeClock) -> Opener:
    url = f"sqlite:///{tmp_path / 'zerog.db'}"
    return lambda: open_backend(url, clock=clock)


def _beanstalk(tmp_path: Path, clock: FakeClock) -> Opener:
    # The session's beanstalkd; tubes of the test's own (a random prefix), a fresh store.
    url = beanstalkd.shared().url(tmp_path / "zerog.db")
    return lambda: open_backend(url, clock=clock)


def _beanstalk_postgres(tmp_path: Path, clock: FakeClock) -> Opener:
    # The session's beanstalkd and PostgreSQL database; tubes and a schema of the test's own.
    url = beanstalkd.shared().url(postgres_server.url())
    return lambda: open_backend(url, clock=clock)


def _postgres(tmp_path: Path, clock: FakeClock) -> Opener:
    # The session's database, a fresh schema of the test's own.
    url = postgres_server.url()
    return lambda: open_backend(url, clock=clock)


def _redis(tmp_path: Path, clock: FakeClock) -> Opener:
    # The session's redis-server, a key prefix of the test's own; the code as functions.
    url = redis_server.shared().url()
    return lambda: open_backend(url, clock=clock)


def _redis_eval(tmp_path: Path, clock: FakeClock) -> Opener:
    # The same, the code as scripts run by EVALSHA (as on Redis 6).
    url = redis_server.shared().url() + "&scripts=eval"
    return lambda: open_backend(url, clock=clock)


OPENERS: dict[str, Callable[[Path, FakeClock], Opener]] = {
    "memory": _memory,
    "sqlite": _sqlite,
    "beanstalk": _beanstalk,
    "postgres": _postgres,
    "beanstalk-postgres": _beanstalk_postgres,
    "redis": _redis,
    "redis-eval": _redis_eval,
}


@pytest.fixture(scope="session", autouse=True)
def _stop_shared_servers() -> Iterator[None]:
    """Stop the servers the openers started for the session (started only when used)."""
    yield
    beanstalkd.stop_shared()
    postgres_server.stop_shared()
    redis_server.stop_shared()


@pytest.fixture
def clock() -> FakeClock:
    """The time every backend of the test reads; tests move it instead of sleeping."""
    return FakeClock(START)


ROLES: dict[str, frozenset[Role]] = {name: frozenset(Role) for name in OPENERS}
"""The roles each backend offers (every role, for each of zerog's own)."""


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run a test that uses a backend on each backend offering the roles it is marked with."""
    if "backend_opener" not in metafunc.fixturenames:
        return
    needed = {
        Role(role) for mark in metafunc.definition.iter_markers("roles") for role in mark.args
    }
    names = [name for name in OPENERS if needed <= ROLES[name]]
    metafunc.parametrize("backend_opener", names, indirect=True)


@pytest.fixture
def backend_opener(
    request: pytest.FixtureRequest, tmp_path: Path, clock: FakeClock
) -> Iterator[Opener]:
    """Opens backends on one fresh store of the parametrized kind; closes them all after."""
    opener = OPENERS[request.param](tmp_path, clock)
    opened: list[Backend] = []

    def open_() -> Backend:
        backend = opener()
        opened.append(backend)
        return backend

    yield open_
    for backend in opened:
        backend.close()


@pytest.fixture
def backend(backend_opener: Opener) -> Backend:
    """A backend on a fresh, empty store, reading the ``clock`` fixture."""
    return backend_opener()


@pytest.fixture
def store(backend: Backend) -> Store:
    """The facade over ``backend``, with default settings."""
    return Store(backend)
