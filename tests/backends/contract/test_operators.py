"""Conformance: operator actions (cancel, pause, resume, retry, kick), history, list, counts."""

from __future__ import annotations

import pytest

from tests.backends.support.helpers import completed, events, put_job, reserve, take, uuids
from zerog.backends.contract import Backend
from zerog.errors import InvalidTransition, JobNotFound
from zerog.model import Control, ListQuery, Progress, State
from zerog.record import error_entry
from zerog.store import Store
from zerog.testing import FakeClock

# --- operator actions ---------------------------------------------------------------------------


def _job_in(backend: Backend, state: State) -> str:
    """A job brought to ``state`` the way jobs get there."""
    uuid = put_job(backend, delay_seconds=5.0 if state == State.SCHEDULED else 0.0)
    if state == State.PAUSED:
        backend.act(uuid, "pause")
    elif state in (State.RUNNING, State.COMPLETE, State.FAILED):
        lease = take(backend).lease
        if state == State.COMPLETE:
            backend.settle(lease, completed())
        elif state == State.FAILED:
            Store(backend).fail(lease, error_entry(backend.clock(), None, "broken"))
    assert backend.get(uuid)["state"] == state
    return uuid


@pytest.mark.parametrize("state", [State.WAITING, State.SCHEDULED, State.PAUSED])
def test_cancel_of_a_job_not_running_ends_it(
    backend: Backend, clock: FakeClock, state: State
) -> None:
    # Given a job that is not running
    uuid = _job_in(backend, state)
    # When an operator cancels it
    assert backend.act(uuid, "cancel", worker="alice") == State.CANCELLED
    # Then it is cancelled and finished, and never runs
    record = backend.get(uuid, history=True)
    assert (record["state"], record["finished_at"]) == (State.CANCELLED, clock.now)
    assert record["history"][-1] == {
        "at": clock.now,
        "event": "cancelled",
        "state": "cancelled",
        "worker": "alice",
        "detail": None,
    }
    clock.advance(10.0)
    assert reserve(backend) is None


@pytest.mark.parametrize(
    ("action", "control"), [("cancel", Control.CANCEL), ("pause", Control.PAUSE)]
)
def test_cancel_or_pause_of_a_running_job_is_asked_of_its_worker(
    backend: Backend, action: str, control: Control
) -> None:
    # Given a running job
    put_job(backend)
    lease = take(backend).lease
    # When an operator cancels or pauses it
    assert backend.act(lease.uuid, action) == State.RUNNING
    # Then it keeps running, and its next heartbeat and save carry the request
    assert backend.get(lease.uuid)["state"] == State.RUNNING
    assert backend.touch(lease) == control
    assert backend.save(lease, Progress(completeness=0.5)) == control
    assert events(backend, lease.uuid)[-1] == f"{action}-requested"


def test_a_new_run_starts_with_no_request(backend: Backend) -> None:
    # Given a running job asked to pause, that its worker released instead
    put_job(backend)
    lease = take(backend).lease
    backend.act(lease.uuid, "pause")
    Store(backend).release(lease)
    # When it runs again / Then nothing is asked of the new run
    assert backend.touch(take(backend).lease) == Control.NONE


def test_pause_stops_a_waiting_job_until_resumed(backend: Backend, clock: FakeClock) -> None:
    # Given a paused job
    uuid = put_job(backend)
    assert backend.act(uuid, "pause") == State.PAUSED
    assert reserve(backend) is None
    # When it is resumed
    clock.advance(3.0)
    assert backend.act(uuid, "resume") == State.WAITING
    # Then it waits, ready now, and is reserved
    assert backend.get(uuid)["ready_at"] == clock.now
    assert take(backend).lease.uuid == uuid
    assert events(backend, uuid) == ["put", "paused", "resumed", "reserved"]


def test_retry_of_a_failed_job_gives_it_all_its_attempts_again(
    backend: Backend, clock: FakeClock
) -> None:
    # Given a failed job
    uuid = _job_in(backend, State.FAILED)
    # When an operator retries it
    assert backend.act(uuid, "retry", worker="bob") == State.WAITING
    # Then it waits with no attempts used and no finish time
    record = backend.get(uuid)
    assert (record["state"], record["attempts"], record["finished_at"]) == (State.WAITING, 0, None)
    assert events(backend, uuid)[-1] == "retried-by-operator"
    assert take(backend).record["attempts"] == 1


@pytest.mark.parametrize(
    ("state", "action"),
    [
        (State.WAITING, "resume"),
        (State.WAITING, "retry"),
        (State.RUNNING, "resume"),
        (State.RUNNING, "retry"),
        (State.COMPLETE, "retry"),
        (State.COMPLETE, "cancel"),
        (State.FAILED, "pause"),
        (State.PAUSED, "pause"),
    ],
)
def test_a_forbidden_action_raises_and_changes_nothing(
    backend: Backend, state: State, action: str
) -> None:
    # Given a job in a state that does not allow the action
    uuid = _job_in(backend, state)
    before = backend.get(uuid, history=True)
    # When it is asked / Then InvalidTransition says so, and nothing changed
    with pytest.raises(InvalidTransition, match=f"cannot {action}"):
        backend.act(uuid, action)
    assert backend.get(uuid, history=True) == before


def test_an_action_on_an_unknown_job_raises_job_not_found(backend: Backend) -> None:
    with pytest.raises(JobNotFound):
        backend.act("no-such-job", "cancel")


def test_kick_retries_the_oldest_failures_of_one_queue(backend: Backend, clock: FakeClock) -> None:
    # Given three jobs of "q" that failed one after another (put in reverse order), and one
    # failed job in another queue
    put = [put_job(backend) for _ in range(3)]
    other = put_job(backend, "other")
    store = Store(backend)
    leases = [take(backend).lease for _ in put]
    for lease in reversed(leases):
        store.fail(lease, error_entry(clock.now, None, "x"))
        clock.advance(1.0)
    store.fail(take(backend, "other").lease, error_entry(clock.now, None, "x"))
    # When two failures of "q" are kicked
    assert backend.kick("q", 2) == 2
    # Then the two that failed first wait again; the others are still failed
    states = {uuid: backend.get(uuid)["state"] for uuid in [*put, other]}
    assert states == {
        put[2]: State.WAITING,
        put[1]: State.WAITING,
        put[0]: State.FAILED,
        other: State.FAILED,
    }
    # And kicking more than there are retries the rest only
    assert backend.kick("q", 10) == 1
    assert backend.kick("q", 10) == 0


# --- history ----------------------------------------------------------------------------------


def test_history_records_every_state_change_in_order(store: Store, clock: FakeClock) -> None:
    # Given a job put, paused, resumed, retried after a failure and completed
    backend = store.backend
    uuid = put_job(backend)
    t0 = clock.now
    backend.act(uuid, "pause", worker="alice")
    clock.advance(1.0)
    backend.act(uuid, "resume", worker="alice")
    clock.advance(1.0)
    store.retry(take(backend, worker="w1").lease, 0.0, error_entry(clock.now, 1, "oops"))
    clock.advance(1.0)
    store.complete(take(backend, worker="w2").lease, "ok")
    # When its history is read
    history = backend.get(uuid, history=True)["history"]
    # Then every change is there, oldest first, with time, state, worker and detail
    assert history == [
        {"at": t0, "event": "put", "state": "waiting", "worker": None, "detail": None},
        {"at": t0, "event": "paused", "state": "paused", "worker": "alice", "detail": None},
        {"at": t0 + 1, "event": "resumed", "state": "waiting", "worker": "alice", "detail": None},
        {
            "at": t0 + 2,
            "event": "reserved",
            "state": "running",
            "worker": "w1",
            "detail": "attempt 1",
        },
        {"at": t0 + 2, "event": "retried", "state": "waiting", "worker": "w1", "detail": "oops"},
        {
            "at": t0 + 3,
            "event": "reserved",
            "state": "running",
            "worker": "w2",
            "detail": "attempt 2",
        },
        {"at": t0 + 3, "event": "completed", "state": "complete", "worker": "w2", "detail": None},
    ]


# --- list and counts ----------------------------------------------------------------------------


@pytest.fixture
def mixed(backend: Backend) -> dict[str, list[str]]:
    """Jobs of two queues, two types, some tagged, one running: uuids by name, in put order."""
    jobs = {
        "a": [put_job(backend, "a", type="t1", tags=["red"]) for _ in range(3)],
        "b": [put_job(backend, "b", type="t2", tags=["red", "blue"]) for _ in range(2)],
    }
    take(backend, "a")
    return jobs


def test_list_is_newest_first_and_filters(backend: Backend, mixed: dict[str, list[str]]) -> None:
    a, b = mixed["a"], mixed["b"]

    def listed(
        state: str | None = None,
        queue: str | None = None,
        type: str | None = None,
        tag: str | None = None,
    ) -> list[str]:
        query = ListQuery(state=state, queue=queue, type=type, tag=tag)
        return uuids(backend.list(query).records)

    # Given jobs in two queues / When listed with each filter / Then newest first, matching
    assert listed() == [*reversed(b), *reversed(a)]
    assert listed(queue="a") == list(reversed(a))
    assert listed(type="t2") == list(reversed(b))
    assert listed(tag="blue") == list(reversed(b))
    assert listed(tag="red", queue="a") == list(reversed(a))
    assert listed(state="running") == [a[0]]
    assert listed(state="waiting", queue="a") == [a[2], a[1]]
    assert listed(tag="green") == []
    # And listed records carry no history
    assert all("history" not in r for r in backend.list(ListQuery()).records)


def test_list_cursor_pages_through_every_job_exactly_once(backend: Backend) -> None:
    # Given 11 jobs
    put = [put_job(backend) for _ in range(11)]
    # When they are listed 4 at a time, following the cursor
    seen: list[str] = []
    pages = 0
    cursor = None
    while True:
        page = backend.list(ListQuery(limit=4, cursor=cursor))
        assert isinstance(page.cursor, str | None)
        seen += uuids(page.records)
        pages += 1
        cursor = page.cursor
        if cursor is None:
            break
    # Then every job came once, newest first, in three pages
    assert seen == list(reversed(put))
    assert pages == 3


def test_list_cursor_with_a_filter(backend: Backend, mixed: dict[str, list[str]]) -> None:
    # Given three jobs tagged red in queue a / When paged two at a time by tag and queue
    first = backend.list(ListQuery(tag="red", queue="a", limit=2))
    second = backend.list(ListQuery(tag="red", queue="a", limit=2, cursor=first.cursor))
    # Then the pages hold them all once, and the last page has no cursor
    assert uuids(first.records) + uuids(second.records) == list(reversed(mixed["a"]))
    assert second.cursor is None


def test_counts_jobs_per_queue_per_state(backend: Backend, mixed: dict[str, list[str]]) -> None:
    # Given two queues with waiting and running jobs / When counted
    counts = backend.counts()
    # Then each queue's states are counted; empty states may be left out
    assert {q: {s: n for s, n in c.items() if n} for q, c in counts.items()} == {
        "a": {"waiting": 2, "running": 1},
        "b": {"waiting": 2},
    }
