"""Conformance: queue pause (reserve skips a paused queue) and the worker registry."""

from __future__ import annotations

from typing import Any

import pytest

from tests.backends.conftest import Opener
from tests.backends.support.helpers import completed, put_job, reserve, settle_then_take, take
from zerog.backends.contract import STALE_WORKER_SECONDS, Backend
from zerog.model import ReserveRequest, State
from zerog.store import Store
from zerog.testing import FakeClock

pytestmark = pytest.mark.roles("queues")

# --- queue pause ----------------------------------------------------------------------------


def test_a_paused_queue_is_skipped_and_the_next_queue_served(backend: Backend) -> None:
    # Given a job in each of two queues, the first one paused
    first = put_job(backend, "a")
    second = put_job(backend, "b")
    backend.pause_queue("a", True)
    # When a worker reserves from both, "a" first
    reservation = take(backend, "a", "b")
    # Then it gets the job of "b", and nothing more while "a" stays paused
    assert reservation.lease.uuid == second
    assert reserve(backend, "a", "b") is None
    assert backend.get(first)["state"] == State.WAITING


def test_resume_serves_the_queue_again_in_order(backend: Backend) -> None:
    # Given a paused queue with two jobs
    uuids = [put_job(backend, "a") for _ in range(2)]
    backend.pause_queue("a", True)
    assert reserve(backend, "a") is None
    # When it is resumed / Then its jobs come out first put, first served
    backend.pause_queue("a", False)
    assert [take(backend, "a").lease.uuid for _ in uuids] == uuids


def test_pause_and_resume_are_idempotent_and_listed(backend: Backend) -> None:
    # Given nothing paused
    assert backend.paused_queues() == frozenset()
    # When two queues are paused, one of them twice (one with no job at all)
    backend.pause_queue("a", True)
    backend.pause_queue("a", True)
    backend.pause_queue("empty", True)
    # Then both are listed once
    assert backend.paused_queues() == frozenset({"a", "empty"})
    # And resuming twice, or resuming a queue never paused, is no error
    backend.pause_queue("a", False)
    backend.pause_queue("a", False)
    backend.pause_queue("never", False)
    assert backend.paused_queues() == frozenset({"empty"})


def test_running_jobs_of_a_paused_queue_go_on(backend: Backend) -> None:
    # Given a job running from queue "a"
    uuid = put_job(backend, "a")
    lease = take(backend, "a").lease
    # When "a" is paused / Then its running job still heartbeats and settles
    backend.pause_queue("a", True)
    backend.touch(lease)
    backend.settle(lease, completed())
    assert backend.get(uuid)["state"] == State.COMPLETE


def test_settle_and_reserve_skips_a_paused_queue(backend: Backend) -> None:
    # Given a running job, and a ready job in a paused queue
    put_job(backend, "a")
    lease = take(backend, "a").lease
    waiting = put_job(backend, "a")
    backend.pause_queue("a", True)
    # When the worker settles and asks for its next job in the same step
    following = settle_then_take(
        backend, lease, completed(), ReserveRequest(queues=["a"], worker="w1")
    )
    # Then the settlement is made and nothing is reserved
    assert following is None
    assert backend.get(lease.uuid)["state"] == State.COMPLETE
    assert backend.get(waiting)["state"] == State.WAITING


def test_a_pause_is_seen_by_every_opening_of_the_store(backend_opener: Opener) -> None:
    # Given two openings of one store (two processes, for a backend that allows them)
    one, other = backend_opener(), backend_opener()
    put_job(one, "a")
    # When one pauses the queue / Then the other skips it
    one.pause_queue("a", True)
    assert other.paused_queues() == frozenset({"a"})
    assert reserve(other, "a") is None
    other.pause_queue("a", False)
    assert reserve(one, "a") is not None


# --- the worker registry --------------------------------------------------------------------


def entry(worker_id: str, started_at: float, **extra: Any) -> dict[str, Any]:
    """A worker's registry entry, as a worker process makes it."""
    return {
        "id": worker_id,
        "host": "h",
        "pid": 100,
        "queues": ["a", "b"],
        "jobs": [],
        "version": "0.1.0",
        "started_at": started_at,
        **extra,
    }


def test_a_registered_worker_is_listed_as_given_with_the_time_it_was_seen(
    backend: Backend, clock: FakeClock
) -> None:
    # Given a worker registering with a key of its own
    given = entry("w1", clock.now, threads=4)
    backend.register_worker(given)
    # When the workers are listed
    clock.advance(1.0)
    listed = backend.workers(max_age_seconds=30.0)
    # Then its entry comes back whole, stamped with the backend's time of registration
    assert listed == [{**given, "last_seen": clock.now - 1.0}]


def test_a_refresh_replaces_the_entry_and_its_time(backend: Backend, clock: FakeClock) -> None:
    # Given a registered worker
    backend.register_worker(entry("w1", clock.now))
    # When it registers again later, running a job
    clock.advance(5.0)
    backend.register_worker(entry("w1", clock.now - 5.0, jobs=["j1"]))
    # Then it is listed once, with its new jobs and time
    [listed] = backend.workers(max_age_seconds=30.0)
    assert (listed["jobs"], listed["last_seen"]) == (["j1"], clock.now)


def test_workers_not_seen_for_too_long_are_skipped_and_later_pruned(
    backend: Backend, clock: FakeClock
) -> None:
    # Given an old worker that stopped refreshing and a live one, started later
    backend.register_worker(entry("old", clock.now))
    clock.advance(20.0)
    backend.register_worker(entry("live", clock.now))
    # When listed with a 10 s maximum age
    clock.advance(5.0)
    listed = backend.workers(max_age_seconds=10.0)
    # Then only the live one is listed, and the read changed nothing
    assert [w["id"] for w in listed] == ["live"]
    assert [w["id"] for w in backend.workers(max_age_seconds=1000.0)] == ["old", "live"]
    # When a worker registers once the old one has been silent for STALE_WORKER_SECONDS
    clock.advance(STALE_WORKER_SECONDS)
    backend.register_worker(entry("live", clock.now - STALE_WORKER_SECONDS - 25.0))
    # Then the old entry is gone for good
    assert [w["id"] for w in backend.workers(max_age_seconds=1e9)] == ["live"]


def test_workers_are_listed_oldest_start_first(backend: Backend, clock: FakeClock) -> None:
    # Given three workers registered in an order unlike their start times
    for worker_id, started in (("b", 2.0), ("c", 3.0), ("a", 1.0)):
        backend.register_worker(entry(worker_id, clock.now + started))
    # When listed / Then by start time
    assert [w["id"] for w in backend.workers(max_age_seconds=30.0)] == ["a", "b", "c"]


def test_unregister_removes_the_entry_and_is_idempotent(backend: Backend, clock: FakeClock) -> None:
    # Given two registered workers
    backend.register_worker(entry("w1", clock.now))
    backend.register_worker(entry("w2", clock.now + 1))
    # When one stops, twice over, and an unknown one is removed
    backend.unregister_worker("w1")
    backend.unregister_worker("w1")
    backend.unregister_worker("nobody")
    # Then the other is still listed
    assert [w["id"] for w in backend.workers(max_age_seconds=30.0)] == ["w2"]


def test_an_entry_that_is_not_json_is_refused(backend: Backend, clock: FakeClock) -> None:
    with pytest.raises((TypeError, ValueError)):
        backend.register_worker(entry("w1", clock.now, handle=object()))
    assert backend.workers(max_age_seconds=30.0) == []


def test_the_registry_is_shared_by_every_opening_of_the_store(
    backend_opener: Opener, clock: FakeClock
) -> None:
    # Given a worker registered through one opening of the store
    one, other = backend_opener(), backend_opener()
    one.register_worker(entry("w1", clock.now))
    # Then another opening lists it, and can remove it
    assert [w["id"] for w in other.workers(max_age_seconds=30.0)] == ["w1"]
    other.unregister_worker("w1")
    assert one.workers(max_age_seconds=30.0) == []


# --- through the facade ---------------------------------------------------------------------


def test_the_store_pauses_and_resumes_queues(store: Store) -> None:
    store.pause_queue("a")
    assert store.paused_queues() == frozenset({"a"})
    store.resume_queue("a")
    assert store.paused_queues() == frozenset()


def test_the_store_registers_lists_and_unregisters_workers(store: Store, clock: FakeClock) -> None:
    store.register_worker(entry("w1", clock.now))
    assert [w["id"] for w in store.workers()] == ["w1"]
    # A worker silent for longer than the default age is gone.
    clock.advance(3600.0)
    assert store.workers() == []
    store.register_worker(entry("w1", clock.now))
    store.unregister_worker("w1")
    assert store.workers() == []
