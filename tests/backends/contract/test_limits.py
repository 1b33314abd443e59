"""Conformance, limits role: a queue's concurrency and named throttles, across workers."""

from __future__ import annotations

import pytest

from tests.backends.support.helpers import completed, put_job, reserve, take
from zerog.backends.contract import Backend
from zerog.store import Store

pytestmark = pytest.mark.roles("limits")


def test_a_queue_limit_caps_how_many_of_its_jobs_run_at_once(
    store: Store, backend: Backend
) -> None:
    for _ in range(3):
        put_job(backend)
    store.set_queue_limit("q", 2)
    assert backend.limits() == {"queue:q": 2}
    first = take(backend)
    take(backend, worker="w2")
    assert reserve(backend, worker="w3") is None
    backend.settle(first.lease, completed())
    assert reserve(backend, worker="w3") is not None
    store.set_queue_limit("q", None)
    assert backend.limits() == {}


def test_a_throttle_caps_jobs_sharing_it_across_queues_and_others_pass(
    store: Store, backend: Backend
) -> None:
    store.set_limit("api.example.com", 1)
    a = put_job(backend, "a", throttles=["api.example.com"])
    b = put_job(backend, "b", throttles=["api.example.com"])
    free = put_job(backend, "b")
    assert take(backend, "a").lease.uuid == a
    # b's first job must wait for the throttle; the next job of b runs instead
    assert take(backend, "b").lease.uuid == free
    assert reserve(backend, "b") is None
    assert backend.get(b)["state"] == "waiting"
    backend.settle(take_lease(backend, a), completed())
    assert take(backend, "b").lease.uuid == b


def take_lease(backend: Backend, uuid: str):  # type: ignore[no-untyped-def]
    from zerog.model import Lease

    record = backend.get(uuid)
    return Lease(uuid, record["lease_token"], record["worker"])


def test_a_throttled_job_runs_once_the_throttle_has_room(store: Store, backend: Backend) -> None:
    store.set_limit("t1", 1)
    first = put_job(backend, throttles=["t1"])
    second = put_job(backend, throttles=["t1"])
    lease = take(backend).lease
    assert lease.uuid == first
    assert reserve(backend) is None
    backend.settle(lease, completed())
    assert take(backend).lease.uuid == second
