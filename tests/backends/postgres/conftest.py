"""Fixtures of the PostgreSQL backend's tests: a backend on a fresh schema of the session's
database, and a cluster of the tests' own (started at first use, destroyed at the end of the
session), for what must not touch the shared server: restarts, crashes, and roles."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.backends.support import postgres_server
from tests.backends.support.pg_cluster import Cluster, own_cluster
from zerog.backends import open_backend
from zerog.backends.postgres import PostgresBackend


@pytest.fixture
def pg() -> Iterator[PostgresBackend]:
    """A PostgreSQL backend on a fresh schema, closed after the test."""
    backend = open_backend(postgres_server.url())
    assert isinstance(backend, PostgresBackend)
    yield backend
    backend.close()


@pytest.fixture(scope="session")
def cluster() -> Iterator[Cluster]:
    """A started cluster on a free port; its data directory is removed afterwards."""
    with own_cluster() as made:
        yield made
