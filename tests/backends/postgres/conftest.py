"""Fixtures of the PostgreSQL backend's tests: a cluster of the tests' own (started at first
use, destroyed at the end of the session), for what must not touch the shared server: restarts,
crashes, and roles."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.backends.support.pg_cluster import Cluster, own_cluster


@pytest.fixture(scope="session")
def cluster() -> Iterator[Cluster]:
    """A started cluster on a free port; its data directory is removed afterwards."""
    with own_cluster() as made:
        yield made
