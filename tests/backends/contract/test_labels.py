"""Conformance: unique jobs, debounce, priority change, move, tags, tracking, timeout."""

from __future__ import annotations

import pytest

from tests.backends.support.helpers import completed, events, put_job, reserve, take, uuids
from zerog.backends.contract import Backend
from zerog.errors import DuplicateJob, InvalidTransition
from zerog.model import Change, ListQuery, State
from zerog.record import Debounce, JobSpec
from zerog.store import Store
from zerog.testing import FakeClock


def _spec(**fields: object) -> JobSpec:
    fields.setdefault("type", "t")
    fields.setdefault("queue", "q")
    return JobSpec(**fields)  # type: ignore[arg-type]


# --- unique jobs --------------------------------------------------------------------------------


def test_a_unique_job_merges_into_the_one_waiting(store: Store) -> None:
    first = store.place(_spec(values={"user": 1}, unique=True))
    again = store.place(_spec(values={"user": 1}, unique=True))
    other = store.place(_spec(values={"user": 2}, unique=True))
    assert (again.uuid, again.outcome) == (first.uuid, "merged")
    assert other.outcome == "put"
    assert other.uuid != first.uuid
    assert sum(store.counts()["q"].values()) == 2


def test_a_unique_job_is_refused_when_asked(store: Store) -> None:
    first = store.enqueue(_spec(unique="report-42"))
    with pytest.raises(DuplicateJob) as raised:
        store.enqueue(_spec(unique="report-42", on_duplicate="refuse"))
    assert raised.value.existing == first


def test_the_unique_key_is_held_while_running_and_freed_when_finished(
    backend: Backend, store: Store
) -> None:
    first = store.enqueue(_spec(unique="k"))
    lease = take(backend).lease
    assert store.enqueue(_spec(unique="k")) == first  # running: still merged
    store.complete(lease)
    second = store.enqueue(_spec(unique="k"))
    assert second != first
    # An operator's retry of a finished job that would duplicate a live one is refused
    backend.act(second, "cancel")
    third = store.enqueue(_spec(unique="k"))
    with pytest.raises(DuplicateJob):
        backend.act(second, "retry")
    assert backend.get(second)["state"] == "cancelled"
    assert backend.get(third)["state"] == "waiting"


# --- debounce (deferrable's semantics, kept in the store) ----------------------------------------


def test_debounce_first_now_second_delayed_third_skipped(store: Store, clock: FakeClock) -> None:
    debounce = Debounce(key="fn()", seconds=30.0)
    first = store.place(_spec(debounce=debounce))
    clock.advance(10.0)
    second = store.place(_spec(debounce=debounce))
    third = store.place(_spec(debounce=debounce))
    assert (first.outcome, second.outcome, third.outcome) == ("put", "delayed", "skipped")
    assert third.uuid == second.uuid
    record = store.get(second.uuid)
    assert (record["state"], record["ready_at"]) == ("scheduled", clock.now + 20.0)
    # Once the delayed push is due, a new call is delayed again to a window after it
    clock.advance(20.0)
    fourth = store.place(_spec(debounce=debounce))
    assert fourth.outcome == "delayed"
    assert store.get(fourth.uuid)["ready_at"] == clock.now + 30.0


def test_debounce_after_a_quiet_window_pushes_now(store: Store, clock: FakeClock) -> None:
    debounce = Debounce(key="fn()", seconds=30.0)
    store.place(_spec(debounce=debounce))
    clock.advance(31.0)
    assert store.place(_spec(debounce=debounce)).outcome == "put"


def test_debounce_always_delay_delays_the_first_and_skips_the_rest(
    store: Store, clock: FakeClock
) -> None:
    debounce = Debounce(key="fn()", seconds=30.0, always_delay=True)
    first = store.place(_spec(debounce=debounce))
    second = store.place(_spec(debounce=debounce))
    assert (first.outcome, second.outcome) == ("delayed", "skipped")
    assert store.get(first.uuid)["ready_at"] == clock.now + 30.0


# --- priority, move, tags, tracking -------------------------------------------------------------


def test_a_waiting_job_s_priority_change_changes_its_place(backend: Backend) -> None:
    first = put_job(backend)
    second = put_job(backend)
    backend.alter(second, Change(priority=-5))
    assert events(backend, second)[-1] == "priority"
    assert take(backend).lease.uuid == second
    assert take(backend).lease.uuid == first


def test_move_puts_a_job_in_another_queue(backend: Backend) -> None:
    uuid = put_job(backend, "a")
    record = backend.alter(uuid, Change(queue="b"))
    assert (record["queue"], record["state"]) == ("b", "waiting")
    assert reserve(backend, "a") is None
    assert take(backend, "b").lease.uuid == uuid
    history = backend.get(uuid, history=True)["history"]
    assert [h["detail"] for h in history if h["event"] == "moved"] == ["a -> b"]


def test_move_of_a_running_or_finished_job_is_refused(backend: Backend) -> None:
    put_job(backend)
    lease = take(backend).lease
    with pytest.raises(InvalidTransition):
        backend.alter(lease.uuid, Change(queue="b"))
    backend.settle(lease, completed())
    with pytest.raises(InvalidTransition):
        backend.alter(lease.uuid, Change(priority=3))


def test_tags_are_added_and_removed_and_listed(backend: Backend) -> None:
    a = put_job(backend, tags=["tidy", "white"])
    b = put_job(backend, tags=["white"])
    backend.alter(b, Change(add_tags=["briefs"], remove_tags=["white"]))
    assert backend.get(b)["tags"] == ["briefs"]
    assert uuids(backend.list(ListQuery(tag="white")).records) == [a]
    assert uuids(backend.list(ListQuery(tag="briefs")).records) == [b]
    assert backend.top_tags(10) == [("briefs", 1), ("tidy", 1), ("white", 1)]


def test_tagged_jobs_page_newest_first(backend: Backend) -> None:
    made = [put_job(backend, tags=["t"]) for _ in range(5)]
    first = backend.list(ListQuery(tag="t", limit=2))
    second = backend.list(ListQuery(tag="t", limit=2, cursor=first.cursor))
    third = backend.list(ListQuery(tag="t", limit=2, cursor=second.cursor))
    listed = uuids(first.records) + uuids(second.records) + uuids(third.records)
    assert listed == made[::-1]
    assert third.cursor is None


def test_top_tags_counts_most_used_first(backend: Backend) -> None:
    for tags in (["a", "b"], ["b"], ["b", "c"], ["c"]):
        put_job(backend, tags=tags)
    assert backend.top_tags(2) == [("b", 3), ("c", 2)]


def test_tracked_jobs_are_listed_in_any_state(backend: Backend) -> None:
    a = put_job(backend)
    b = put_job(backend)
    backend.alter(a, Change(tracked=True))
    backend.alter(b, Change(tracked=True))
    backend.settle(take(backend).lease, completed())  # a completes, still tracked
    assert sorted(uuids(backend.list(ListQuery(tracked=True)).records)) == sorted([a, b])
    backend.alter(b, Change(tracked=False))
    assert uuids(backend.list(ListQuery(tracked=True)).records) == [a]
    assert backend.get(a)["tracked"] is True


def test_timeout_ends_a_running_job_s_lease_now(backend: Backend) -> None:
    put_job(backend)
    lease = take(backend).lease
    assert backend.act(lease.uuid, "timeout") == State.RUNNING
    assert backend.rescue_expired() == [lease.uuid]
    assert backend.get(lease.uuid)["state"] == "waiting"
    assert "timed-out" in events(backend, lease.uuid)
    with pytest.raises(InvalidTransition):
        backend.act(lease.uuid, "timeout")


def test_a_queued_job_can_be_rescheduled(backend: Backend, clock: FakeClock) -> None:
    uuid = put_job(backend)
    record = backend.alter(uuid, Change(delay_seconds=30.0))
    assert (record["state"], record["ready_at"]) == ("scheduled", clock.now + 30.0)
    assert events(backend, uuid)[-1] == "rescheduled"
    assert reserve(backend) is None
    clock.advance(30.0)
    assert take(backend).lease.uuid == uuid


def test_a_scheduled_job_rescheduled_to_now_is_ready(backend: Backend) -> None:
    uuid = put_job(backend, delay_seconds=600.0)
    assert backend.alter(uuid, Change(delay_seconds=0.0))["state"] == "waiting"
    assert take(backend).lease.uuid == uuid


def test_only_waiting_or_scheduled_jobs_can_be_rescheduled(backend: Backend) -> None:
    first = put_job(backend, "a")
    dependent = put_job(backend, "b", depends=[first])
    with pytest.raises(InvalidTransition):
        backend.alter(dependent, Change(delay_seconds=5.0))
    lease = take(backend, "a").lease
    with pytest.raises(InvalidTransition):
        backend.alter(lease.uuid, Change(delay_seconds=5.0))


# --- idempotency windows: a unique key held on after its job finished ----------------------------


@pytest.mark.parametrize("ending", ["complete", "failed", "cancelled"])
def test_a_unique_key_holds_for_its_window_after_the_job_finished(
    backend: Backend, store: Store, clock: FakeClock, ending: str
) -> None:
    # Given a unique job whose key holds 60 s after it finished, finished (each way)
    first = store.enqueue(_spec(unique="pay-42", unique_window_seconds=60.0))
    if ending == "cancelled":
        backend.act(first, "cancel")
    else:
        lease = take(backend).lease
        if ending == "complete":
            store.complete(lease)
        else:
            store.fail(lease, {"timeStamp": clock.now, "errorCode": None, "msg": "no"})
    assert backend.get(first)["state"] == ending
    # When the same key is put 59 s later, Then it is merged into the finished job (or
    # refused, when asked), and nothing new is stored
    clock.advance(59.0)
    again = store.place(_spec(unique="pay-42", unique_window_seconds=60.0))
    assert (again.uuid, again.outcome) == (first, "merged")
    with pytest.raises(DuplicateJob) as raised:
        store.enqueue(_spec(unique="pay-42", on_duplicate="refuse"))
    assert raised.value.existing == first
    assert sum(store.counts()["q"].values()) == 1
    # And once the window has passed, the key is free: a new job is stored
    clock.advance(2.0)
    later = store.place(_spec(unique="pay-42", unique_window_seconds=60.0))
    assert later.outcome == "put"
    assert later.uuid != first
    # And the first job, retried by an operator, is refused now that the new one holds the key
    if ending != "complete":
        with pytest.raises(DuplicateJob):
            backend.act(first, "retry")


def test_without_a_window_the_key_is_free_once_finished_and_a_window_needs_a_key(
    backend: Backend, store: Store
) -> None:
    first = store.enqueue(_spec(unique="k"))
    store.complete(take(backend).lease)
    assert store.place(_spec(unique="k")).outcome == "put"
    with pytest.raises(ValueError, match="unique_window_seconds"):
        store.enqueue(_spec(unique_window_seconds=30.0))
    assert first
