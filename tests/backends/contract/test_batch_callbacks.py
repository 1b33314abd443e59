"""Conformance: batches of jobs with a callback job that becomes ready once, when every member
has ended (complete, failed for good, cancelled, expired), on every backend."""

from __future__ import annotations

import threading

import pytest

from tests.backends.conftest import Opener
from tests.backends.support.helpers import events, take
from zerog.backends.contract import Backend
from zerog.errors import InvalidOptions
from zerog.model import Settlement
from zerog.record import JobSpec, error_entry
from zerog.store import Store
from zerog.testing import FakeClock


def _spec(queue: str = "q", **options: object) -> JobSpec:
    return JobSpec(type="t", queue=queue, ttr_seconds=30.0, **options)  # type: ignore[arg-type]


def _batch(store: Store, size: int, **member: object) -> tuple[str, list[str]]:
    """A batch of ``size`` members in queue q, its callback in queue cb."""
    batch_id = store.put_batch([_spec(**member) for _ in range(size)], _spec("cb"))
    return batch_id, list(store.batch(batch_id)["members"])


def _error() -> dict[str, object]:
    return error_entry(0.0, None, "it broke")


def test_the_callback_is_ready_once_when_the_last_member_completes(
    backend: Backend, store: Store
) -> None:
    batch_id, members = _batch(store, 3)
    assert backend.get(batch_id)["state"] == "depends"
    assert all(backend.get(m)["batch_id"] == batch_id for m in members)
    for n in range(3):
        assert store.batch(batch_id)["ended"] == n
        assert store.reserve(["cb"], "w") is None  # not claimable while members are left
        backend.settle(take(backend).lease, Settlement.completed())
    assert backend.get(batch_id)["state"] == "waiting"
    assert events(backend, batch_id).count("batch-done") == 1
    progress = store.batch(batch_id)
    assert (progress["total"], progress["ended"], progress["complete"]) == (3, 3, 3)
    assert progress["completeness"] == 1.0
    assert take(backend, "cb").lease.uuid == batch_id


def test_failed_and_cancelled_members_count_as_ended_with_their_outcomes(
    backend: Backend, store: Store
) -> None:
    batch_id, members = _batch(store, 4, max_retries=0)
    store.act(members[3], "cancel")  # a waiting member cancelled by an operator
    backend.settle(take(backend).lease, Settlement.failed(_error()))
    running = take(backend)
    assert store.batch(batch_id)["running"] == 1
    backend.settle(running.lease, Settlement.completed())
    assert backend.get(batch_id)["state"] == "depends"
    backend.settle(take(backend).lease, Settlement.failed(_error()))
    progress = store.batch(batch_id)
    assert backend.get(batch_id)["state"] == "waiting"
    assert progress["counts"] == {"failed": 2, "complete": 1, "cancelled": 1}
    assert (progress["failed"], progress["ended"]) == (2, 4)
    assert backend.get(batch_id)["blocked_by"] == {}


def test_a_retried_member_is_not_counted_twice(backend: Backend, store: Store) -> None:
    batch_id, _members = _batch(store, 2)
    first = take(backend)  # fails with retries left: it has not ended
    backend.settle(first.lease, Settlement.retried(0.0, _error()))
    assert store.batch(batch_id)["ended"] == 0
    again = take(backend)
    backend.settle(again.lease, Settlement.failed(_error()))  # ended, failed
    store.act(again.lease.uuid, "retry")  # an operator retries it: it ends again below
    backend.settle(take(backend).lease, Settlement.failed(_error()))
    assert backend.get(batch_id)["state"] == "depends"  # the other member is left
    backend.settle(take(backend).lease, Settlement.completed())
    assert backend.get(batch_id)["state"] == "waiting"
    assert events(backend, batch_id).count("batch-done") == 1


def test_members_that_ended_before_the_put_finishes_are_not_waited_for(
    backend: Backend, store: Store
) -> None:
    batch_id, _members = _batch(store, 1)
    backend.settle(take(backend).lease, Settlement.completed())
    assert take(backend, "cb").lease.uuid == batch_id


def test_two_workers_ending_the_last_two_members_at_once_ready_the_callback_once(
    backend_opener: Opener,
) -> None:
    for _round in range(3):
        store = Store(backend_opener())
        batch_id, _members = _batch(store, 2)
        _settle_at_once(backend_opener(), backend_opener())
        assert store.backend.get(batch_id)["state"] == "waiting"
        assert events(store.backend, batch_id).count("batch-done") == 1
        assert take(store.backend, "cb").lease.uuid == batch_id
        assert store.reserve(["cb"], "w") is None


def _settle_at_once(one: Backend, other: Backend) -> None:
    """Two workers, each on its own opening of the store, end a member each at once."""
    leases = [take(one, worker="a").lease, take(other, worker="b").lease]
    outcomes = [Settlement.completed(), Settlement.failed(_error())]
    start = threading.Barrier(2)

    def settle(backend: Backend, i: int) -> None:
        start.wait(timeout=30)
        backend.settle(leases[i], outcomes[i])

    threads = [threading.Thread(target=settle, args=(b, i)) for i, b in enumerate((one, other))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)


def test_an_ended_member_may_be_deleted_and_shows_as_deleted(
    backend: Backend, store: Store
) -> None:
    batch_id, _members = _batch(store, 2)
    ended = take(backend)
    backend.settle(ended.lease, Settlement.failed(_error()))
    assert store.delete(ended.lease.uuid)
    progress = store.batch(batch_id)
    assert (progress["ended"], progress["members"][ended.lease.uuid]) == (1, "deleted")
    backend.settle(take(backend).lease, Settlement.completed())
    assert take(backend, "cb").lease.uuid == batch_id


def test_a_cancelled_callback_stays_cancelled_when_the_members_end(
    backend: Backend, store: Store
) -> None:
    batch_id, _members = _batch(store, 1)
    store.act(batch_id, "cancel")
    backend.settle(take(backend).lease, Settlement.completed())
    assert backend.get(batch_id)["state"] == "cancelled"
    assert store.reserve(["cb"], "w") is None


def test_a_member_that_expires_before_it_runs_ends_the_batch(
    backend: Backend, store: Store, clock: FakeClock
) -> None:
    batch_id, _members = _batch(store, 1, ttl_seconds=10.0)
    clock.advance(11.0)
    backend.rescue_expired()
    assert store.batch(batch_id)["counts"] == {"expired": 1}
    assert take(backend, "cb").lease.uuid == batch_id


def test_batches_that_cannot_be_kept_exactly_are_refused_before_anything_is_stored(
    backend: Backend, store: Store
) -> None:
    with pytest.raises(InvalidOptions, match="1 to 1000 members"):
        store.put_batch([], _spec("cb"))
    with pytest.raises(InvalidOptions, match="neither unique nor debounced"):
        store.put_batch([_spec(unique=True)], _spec("cb"))
    assert backend.counts() == {}
