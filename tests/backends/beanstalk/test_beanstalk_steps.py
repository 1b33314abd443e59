"""beanstalk: the steps beyond the conformance suite (settle-and-reserve in one store
transaction, stale and duplicate entries, beanstalkd down while a job settles)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import greenstalk
import pytest

from tests.backends.support import beanstalkd
from tests.backends.support.helpers import (
    completed,
    events,
    put_job,
    reserve,
    settle_then_take,
    take,
)
from zerog.backends import open_backend
from zerog.backends.beanstalk import BeanstalkBackend
from zerog.errors import BackendUnavailable
from zerog.model import ReserveRequest, Settlement, State
from zerog.testing import FakeClock

REQUEST = ReserveRequest(queues=["q"], worker="w1")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def backend(tmp_path: Path, clock: FakeClock) -> Iterator[BeanstalkBackend]:
    opened = open_backend(beanstalkd.shared().url(tmp_path / "zerog.db"), clock=clock)
    assert isinstance(opened, BeanstalkBackend)
    yield opened
    opened.close()


@pytest.fixture
def tube(backend: BeanstalkBackend) -> Iterator[greenstalk.Client[str]]:
    client = greenstalk.Client(backend.address, use=backend.entries.tube("q"))
    yield client
    client.close()


def _count(client: greenstalk.Client[str], state: str) -> int:
    stats = client.stats_tube(client.using())
    return int(stats[f"current-jobs-{state}"])  # type: ignore[literal-required]


def test_settle_and_reserve_takes_the_next_job_and_deletes_the_finished_entry(
    backend: BeanstalkBackend, tube: greenstalk.Client[str]
) -> None:
    # Given a running job and a waiting one
    first = put_job(backend)
    second = put_job(backend)
    lease = take(backend).lease
    # When the first completes and the next is reserved in the same step
    following = settle_then_take(backend, lease, completed(), REQUEST)
    # Then the second runs, the first is complete, and only the second's entry is left
    assert following is not None
    assert following.lease.uuid == second
    assert events(backend, first) == ["put", "reserved", "completed"]
    assert (_count(tube, "reserved"), _count(tube, "ready")) == (1, 0)


def test_settle_and_reserve_finds_the_next_job_in_a_later_queue(
    backend: BeanstalkBackend, tube: greenstalk.Client[str]
) -> None:
    # Given a running job of "q" and a waiting one in "later" only
    put_job(backend)
    waiting = put_job(backend, "later")
    lease = take(backend).lease
    # When it completes, reserving from "q" then "later" / Then it gets the job of "later",
    # and the finished entry is gone
    request = ReserveRequest(queues=["q", "later"], worker="w1")
    following = settle_then_take(backend, lease, completed(), request)
    assert following is not None
    assert following.lease.uuid == waiting
    assert _count(tube, "reserved") + _count(tube, "ready") == 0


def test_settle_and_reserve_buries_a_foreign_entry_and_takes_the_job_behind_it(
    backend: BeanstalkBackend, tube: greenstalk.Client[str]
) -> None:
    # Given a running job, then an entry of another program, then a waiting job, in "q"
    put_job(backend)
    lease = take(backend).lease
    tube.put("not a zerog entry")
    waiting = put_job(backend)
    # When the job completes and the next is reserved / Then the foreign entry is buried and
    # the waiting job reserved
    following = settle_then_take(backend, lease, completed(), REQUEST)
    assert following is not None
    assert following.lease.uuid == waiting
    assert _count(tube, "buried") == 1


def test_a_lost_lease_is_reported_and_the_next_job_still_claimed(
    backend: BeanstalkBackend, clock: FakeClock
) -> None:
    # Given a job whose lease was lost (rescued and run by another worker), and a waiting job
    put_job(backend, ttr_seconds=10.0)
    old = take(backend).lease
    clock.advance(11.0)
    backend.rescue_expired()
    take(backend, worker="w2")
    waiting = put_job(backend)
    # When the old worker settles and asks for its next job
    batch = backend.settle_batch([(old, completed())], REQUEST, 1)
    # Then the settlement is refused (reported lost, nothing written for it), and the
    # waiting job is the old worker's next one, claimed once
    assert batch.lost == [old.uuid]
    assert [r.lease.uuid for r in batch.reservations] == [waiting]
    assert events(backend, waiting) == ["put", "reserved"]
    assert reserve(backend, worker="w3") is None


def test_settle_and_reserve_of_a_job_requeued_now_gets_it_back(backend: BeanstalkBackend) -> None:
    # Given the only job, running / When it asks to run again at once, reserving in the step
    uuid = put_job(backend)
    lease = take(backend).lease
    requeue = Settlement(state=State.WAITING, event="requeued")
    following = settle_then_take(backend, lease, requeue, REQUEST)
    # Then it is reserved again, as settle-then-reserve would
    assert following is not None
    assert following.lease.uuid == uuid


def test_a_lapsed_pause_mirror_is_put_back_and_the_queue_skipped(
    backend: BeanstalkBackend, tube: greenstalk.Client[str]
) -> None:
    # Given a paused queue whose beanstalkd pause lapsed (as if nobody renewed it)
    uuid = put_job(backend)
    backend.pause_queue("q", True)
    tube.pause_tube(tube.using(), 0)
    # When a worker reserves / Then the store's pause holds, and beanstalkd's is set again
    assert reserve(backend) is None
    assert tube.stats_tube(tube.using())["pause"] > 0
    assert backend.get(uuid)["state"] == State.WAITING


def test_a_duplicate_entry_runs_the_job_once(
    backend: BeanstalkBackend, tube: greenstalk.Client[str]
) -> None:
    # Given a job with a second entry naming it (as a reconciler racing a repair may leave)
    uuid = put_job(backend)
    tube.put('{"uuid":"%s"}' % uuid)  # noqa: UP031 - an entry body, byte for byte.
    # When workers reserve until nothing is left / Then the job ran once, no entry is left
    assert take(backend).lease.uuid == uuid
    assert reserve(backend) is None
    assert events(backend, uuid).count("reserved") == 1
    assert _count(tube, "ready") == 0


def test_a_settlement_made_while_beanstalkd_is_down_is_kept(tmp_path: Path) -> None:
    # Given a running job, then beanstalkd stopping
    server = beanstalkd.Beanstalkd(tmp_path / "binlog").start()
    backend = open_backend(server.url(tmp_path / "zerog.db"))
    try:
        uuid = put_job(backend)
        lease = take(backend).lease
        server.stop()
        # When the worker completes it and asks for the next / Then the job is complete
        assert settle_then_take(backend, lease, completed(), REQUEST) is None
        assert backend.get(uuid)["state"] == State.COMPLETE
        # And what needs beanstalkd says it is unavailable
        with pytest.raises(BackendUnavailable):
            reserve(backend)
        # And once beanstalkd is back, the entry it kept is cleaned up on delivery
        server.start()
        assert reserve(backend) is None
        assert events(backend, uuid)[-1] == "completed"
    finally:
        backend.close()
        server.stop()
