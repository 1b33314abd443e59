"""Conformance, schedules role: recurring jobs (interval, offset, cron, backlog)."""

from __future__ import annotations

import pytest

from tests.backends.conftest import START
from tests.backends.support.helpers import reserve, take
from zerog.backends.contract import Backend
from zerog.errors import InvalidOptions, JobNotFound
from zerog.model import ListQuery
from zerog.recurrence import RecurSpec
from zerog.store import Store
from zerog.testing import FakeClock

pytestmark = pytest.mark.roles("schedules")


# --- recurring jobs -----------------------------------------------------------------------------


def test_a_recurrence_spawns_one_job_now_and_one_per_interval(
    backend: Backend, store: Store, clock: FakeClock
) -> None:
    rid = store.recur(
        RecurSpec(type="t", queue="maintenance", values={"tasks": ["sweep"]}, interval_seconds=60)
    )
    first = take(backend, "maintenance")
    assert first.lease.uuid == f"{rid}-1"
    assert (first.record["values"], first.record["recurrence"]) == ({"tasks": ["sweep"]}, rid)
    assert reserve(backend, "maintenance") is None
    clock.advance(59.0)
    assert reserve(backend, "maintenance") is None
    clock.advance(1.0)
    assert take(backend, "maintenance").lease.uuid == f"{rid}-2"
    spawned = backend.list(ListQuery(recurrence=rid)).records
    assert sorted(r["uuid"] for r in spawned) == [f"{rid}-1", f"{rid}-2"]


def test_an_offset_delays_the_first_spawn(store: Store, backend: Backend, clock: FakeClock) -> None:
    store.recur(RecurSpec(type="t", queue="m", interval_seconds=86400, offset_seconds=3600))
    assert reserve(backend, "m") is None
    clock.advance(3600.0)
    assert reserve(backend, "m") is not None


def test_missed_ticks_spawn_at_most_the_backlog(
    store: Store, backend: Backend, clock: FakeClock
) -> None:
    capped = store.recur(RecurSpec(type="t", queue="a", interval_seconds=10, backlog=2))
    every = store.recur(RecurSpec(type="t", queue="b", interval_seconds=10))
    clock.advance(95.0)  # ticks at 0, 10, ..., 90: ten of them
    assert reserve(backend, "a") is not None
    assert reserve(backend, "b") is not None
    assert len(backend.list(ListQuery(recurrence=capped)).records) == 2
    assert len(backend.list(ListQuery(recurrence=every)).records) == 10
    clock.advance(5.0)  # the next tick, at 100
    reserve(backend, "a")
    assert len(backend.list(ListQuery(recurrence=capped)).records) == 3


def test_a_cron_recurrence_spawns_on_its_schedule(
    store: Store, backend: Backend, clock: FakeClock
) -> None:
    # START is 2023-11-14 22:13:20 UTC; */5 means :15, :20, ...
    rid = store.recur(RecurSpec(type="t", queue="c", cron="*/5 * * * *"))
    assert store.get_recurrence(rid)["next_at"] == START + 100.0
    assert reserve(backend, "c") is None
    clock.advance(100.0)
    assert take(backend, "c").lease.uuid == f"{rid}-1"
    clock.advance(300.0)
    assert take(backend, "c").lease.uuid == f"{rid}-2"


def test_bad_schedules_are_refused_and_nothing_is_stored(store: Store) -> None:
    with pytest.raises(InvalidOptions, match="does not parse"):
        store.recur(RecurSpec(type="t", queue="c", cron="every tuesday"))
    with pytest.raises(InvalidOptions, match="interval must be > 0"):
        store.recur(RecurSpec(type="t", queue="c", interval_seconds=0))
    with pytest.raises(InvalidOptions, match="exactly one"):
        store.recur(RecurSpec(type="t", queue="c"))
    assert store.recurrences() == []


def test_a_recurrence_can_be_listed_updated_and_removed(
    store: Store, backend: Backend, clock: FakeClock
) -> None:
    rid = store.recur(RecurSpec(type="t", queue="m", interval_seconds=60, priority=3))
    other = store.recur(RecurSpec(type="t", queue="n", interval_seconds=60))
    assert [r["id"] for r in store.recurrences()] == [rid, other]
    assert [r["id"] for r in store.recurrences("m")] == [rid]
    updated = store.update_recurrence(rid, priority=-1, values={"x": 1})
    assert (updated["priority"], updated["values"]) == (-1, {"x": 1})
    assert take(backend, "m").record["priority"] == -1
    with pytest.raises(InvalidOptions):
        store.update_recurrence(rid, interval_seconds=-4)
    with pytest.raises(JobNotFound):
        store.update_recurrence("nope", priority=1)
    assert store.unrecur(rid) is True
    assert store.unrecur(rid) is False
    clock.advance(600.0)
    assert reserve(backend, "m") is None
    assert backend.get(f"{rid}-1")["state"] == "running"  # spawned jobs stay


def test_spawned_jobs_carry_the_recurrence_s_settings(store: Store, backend: Backend) -> None:
    rid = store.recur(
        RecurSpec(
            type="t", queue="m", interval_seconds=60, tags=["nightly"], max_retries=9, priority=2
        )
    )
    record = take(backend, "m").record
    assert (record["tags"], record["max_retries"], record["priority"]) == (["nightly"], 9, 2)
    assert record["recurrence"] == rid
