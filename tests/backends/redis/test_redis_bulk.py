"""Redis: a hundred thousand expired leases are rescued in bounded scripts (never one huge
unpack, never one script blocking the server for long)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.backends.support import redis_server
from tests.backends.support.helpers import job_record
from zerog.backends import open_backend
from zerog.backends.redis import RedisBackend
from zerog.backends.redis import backend as redis_backend
from zerog.model import ReserveRequest
from zerog.testing import FakeClock

JOBS = 100_050
BATCH = 1000


@pytest.fixture
def big(tmp_path: Path) -> Iterator[tuple[RedisBackend, FakeClock]]:
    """A store on a server of its own, without an append-only file (no disk to fill)."""
    server = redis_server.RedisServer(tmp_path / "data", options=(("appendonly", "no"),))
    server.start()
    clock = FakeClock()
    backend = open_backend(server.url(), clock=clock)
    assert isinstance(backend, RedisBackend)
    try:
        yield backend, clock
    finally:
        backend.close()
        server.stop()


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_more_than_a_hundred_thousand_expired_leases_are_rescued_in_batches(
    big: tuple[RedisBackend, FakeClock],
) -> None:
    backend, clock = big
    # Given more than 100,000 jobs put in bulk, all claimed under a 30 s lease
    for start in range(0, JOBS, BATCH):
        backend.put_many(job_record(backend) for _ in range(min(BATCH, JOBS - start)))
    request = ReserveRequest(queues=["q"], worker="w")
    claimed = 0
    while taken := backend.settle_batch([], request, BATCH).reservations:
        claimed += len(taken)
    assert claimed == JOBS
    # When the leases have all expired and one rescue asks for all of them
    clock.advance(31.0)
    moved = backend.rescue_expired(limit=JOBS + 1000)
    # Then every job was moved, by scripts of at most RESCUE_CHUNK jobs each
    assert len(moved) == len(set(moved)) == JOBS
    assert backend.counts() == {"q": {"waiting": JOBS}}
    assert redis_backend.RESCUE_CHUNK <= 1000
    # And the next worker claims them again, under new leases
    again = backend.settle_batch([], request, 10).reservations
    assert [r.lease.token for r in again] == [2] * 10
