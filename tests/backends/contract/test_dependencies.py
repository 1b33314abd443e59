"""Conformance: dependencies and pipelines, each change one atomic step on every backend."""

from __future__ import annotations

import pytest

from tests.backends.support.helpers import completed, events, put_job, reserve, take
from zerog.backends.contract import Backend
from zerog.errors import DependencyCycle, InvalidTransition, UnknownDependency
from zerog.model import Change, Settlement, State
from zerog.record import error_entry
from zerog.store import Store
from zerog.testing import FakeClock

# --- dependencies -------------------------------------------------------------------------------


def test_a_job_waits_in_depends_until_all_its_dependencies_complete(backend: Backend) -> None:
    # Given two jobs, and a third that depends on both (qless's omelette)
    eggs = put_job(backend, "buy_eggs")
    pan = put_job(backend, "buy_pan")
    omelette = put_job(backend, "omelette", depends=[eggs, pan])
    # Then it waits, and cannot be reserved
    record = backend.get(omelette)
    assert (record["state"], sorted(record["depends"])) == ("depends", sorted([eggs, pan]))
    assert backend.get(eggs)["dependents"] == [omelette]
    assert reserve(backend, "omelette") is None
    # When the eggs are bought it still waits for the pan
    backend.settle(take(backend, "buy_eggs").lease, completed())
    assert backend.get(omelette)["state"] == "depends"
    assert backend.get(omelette)["depends"] == [pan]
    # When the pan is bought too, it is ready, in the same step as the pan's completion
    backend.settle(take(backend, "buy_pan").lease, completed())
    assert backend.get(omelette)["state"] == "waiting"
    assert events(backend, omelette)[-1] == "dependencies-met"
    assert take(backend, "omelette").lease.uuid == omelette


def test_dependencies_already_complete_are_dropped_at_put(backend: Backend) -> None:
    done = put_job(backend)
    backend.settle(take(backend).lease, completed())
    uuid = put_job(backend, depends=[done])
    assert (backend.get(uuid)["state"], backend.get(uuid)["depends"]) == ("waiting", [])


def test_unknown_dependency_ids_are_refused_and_nothing_is_stored(
    backend: Backend, store: Store
) -> None:
    real = put_job(backend)
    with pytest.raises(UnknownDependency, match="no-such-job"):
        store.enqueue(_spec(depends=[real, "no-such-job"]))
    assert sum(sum(c.values()) for c in backend.counts().values()) == 1
    assert backend.get(real)["dependents"] == []


@pytest.mark.parametrize("ending", ["failed", "cancelled"])
def test_a_dependency_that_fails_or_is_cancelled_leaves_its_dependent_visible_with_the_reason(
    backend: Backend, store: Store, ending: str
) -> None:
    first = put_job(backend)
    dependent = put_job(backend, "later", depends=[first])
    if ending == "failed":
        store.fail(take(backend).lease, error_entry(backend.clock(), None, "broken"))
    else:
        backend.act(first, "cancel")
    record = backend.get(dependent)
    assert record["state"] == "depends"
    assert record["blocked_by"] == {first: ending}
    assert events(backend, dependent)[-1] == f"dependency-{ending}"
    # When the dependency is retried and completes, the dependent goes on
    backend.act(first, "retry")
    assert backend.get(dependent)["blocked_by"] == {}
    backend.settle(take(backend).lease, completed())
    assert backend.get(dependent)["state"] == "waiting"


def test_a_job_put_on_a_failed_dependency_is_blocked_from_the_start(
    backend: Backend, store: Store
) -> None:
    first = put_job(backend)
    store.fail(take(backend).lease, error_entry(backend.clock(), None, "broken"))
    dependent = put_job(backend, depends=[first])
    assert backend.get(dependent)["blocked_by"] == {first: "failed"}


def test_depend_and_undepend_change_what_a_job_waits_for(backend: Backend) -> None:
    a, b = put_job(backend, "a"), put_job(backend, "b")
    job = put_job(backend, "c")
    # depend on a waiting job: it waits in depends
    record = backend.alter(job, Change(depend=[a, b]))
    assert (record["state"], sorted(record["depends"])) == ("depends", sorted([a, b]))
    assert "depends" in events(backend, job)
    # undepend one: still waits; undepend all: ready
    assert backend.alter(job, Change(undepend=[a]))["depends"] == [b]
    assert backend.get(a)["dependents"] == []
    record = backend.alter(job, Change(undepend_all=True))
    assert (record["state"], record["depends"]) == ("waiting", [])
    assert events(backend, job)[-2:] == ["undepends", "dependencies-met"]
    assert take(backend, "c").lease.uuid == job


def test_a_dependency_cycle_is_refused(backend: Backend) -> None:
    a = put_job(backend, "a")
    b = put_job(backend, "b", depends=[a])
    c = put_job(backend, "c", depends=[b])
    with pytest.raises(DependencyCycle):
        backend.alter(a, Change(depend=[c]))
    with pytest.raises(DependencyCycle):
        backend.alter(a, Change(depend=[a]))
    assert backend.get(a)["state"] == "waiting"
    assert backend.get(a)["depends"] == []


def test_dependencies_of_a_running_job_cannot_change(backend: Backend) -> None:
    a = put_job(backend, "a")
    put_job(backend)
    running = take(backend).lease.uuid
    with pytest.raises(InvalidTransition):
        backend.alter(running, Change(depend=[a]))
    with pytest.raises(UnknownDependency):
        backend.alter(a, Change(depend=["nope"]))


def test_a_dependent_released_while_its_queue_is_reserved_runs_in_order(
    backend: Backend,
) -> None:
    # A job released by a completion keeps its place: priority, then put order.
    first = put_job(backend, "a")
    waiting = put_job(backend, "b")
    released = put_job(backend, "b", depends=[first])
    backend.settle(take(backend, "a").lease, completed())
    assert take(backend, "b").lease.uuid == waiting
    assert take(backend, "b").lease.uuid == released


# --- pipelines ----------------------------------------------------------------------------------


def test_complete_with_next_moves_the_job_with_its_values_to_the_next_queue(
    backend: Backend, store: Store
) -> None:
    # Given a job running in the first step of a pipeline
    uuid = put_job(backend, "underpants", values={"collected": 0})
    lease = take(backend, "underpants").lease
    # When it completes this step and goes on to the next
    from zerog.model import Progress

    store.advance(lease, "unknown", progress=Progress(values={"collected": 3}))
    # Then it waits in the next queue with its values, its attempts starting afresh
    record = backend.get(uuid)
    assert (record["state"], record["queue"], record["values"]) == (
        "waiting",
        "unknown",
        {"collected": 3},
    )
    assert record["attempts"] == 0
    assert events(backend, uuid)[-1] == "advanced"
    assert reserve(backend, "underpants") is None
    lease = take(backend, "unknown").lease
    store.advance(lease, "profit", delay_seconds=10.0)
    assert backend.get(uuid)["state"] == "scheduled"


def test_complete_with_next_and_depends_waits_in_the_next_queue(
    backend: Backend, store: Store, clock: FakeClock
) -> None:
    other = put_job(backend, "other")
    uuid = put_job(backend, "one")
    dependent = put_job(backend, "after", depends=[uuid])
    lease = take(backend, "one").lease
    store.advance(lease, "two", depends=[other])
    record = backend.get(uuid)
    assert (record["state"], record["queue"], record["depends"]) == ("depends", "two", [other])
    # Its own dependents were not released: it has not completed its last step
    assert backend.get(dependent)["state"] == "depends"
    backend.settle(take(backend, "other").lease, completed())
    assert take(backend, "two").lease.uuid == uuid


def test_advance_with_unknown_depends_keeps_the_job_running(backend: Backend, store: Store) -> None:
    put_job(backend, "one")
    lease = take(backend, "one").lease
    settlement = Settlement(state=State.WAITING, event="advanced", queue="two", depends=["nope"])
    with pytest.raises(UnknownDependency):
        backend.settle(lease, settlement)
    assert backend.get(lease.uuid)["state"] == "running"
    backend.settle(lease, completed())


def _spec(**fields: object):  # type: ignore[no-untyped-def]
    from zerog.record import JobSpec

    fields.setdefault("type", "t")
    fields.setdefault("queue", "q")
    return JobSpec(**fields)  # type: ignore[arg-type]
