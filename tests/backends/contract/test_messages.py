"""Conformance: messages to jobs (the messages role): posted, asked of the worker by the
heartbeat's answer, taken once, kept for the next run or refused, bounded."""

from __future__ import annotations

from typing import Any, cast

import pytest

from tests.backends.support.helpers import completed, put_job, take
from zerog.backends.contract import Backend, Messages
from zerog.errors import (
    InboxFull,
    JobNotFound,
    NotRunning,
    PayloadTooLarge,
    ReservationLost,
)
from zerog.inbox import MAX_MESSAGE_BYTES, new_message
from zerog.model import Control, Lease, Progress, State
from zerog.store import Store
from zerog.testing import FakeClock

pytestmark = pytest.mark.roles("messages")
LIMIT = 100


def _messages(backend: Backend) -> Messages:
    return cast(Messages, backend)


def _post(backend: Backend, uuid: str, body: Any, idle: bool = False, limit: int = LIMIT) -> State:
    entry = new_message(body, "alice@ops", backend.clock())
    return _messages(backend).post_message(uuid, entry, idle, limit, "alice@ops")


def _bodies(backend: Backend, lease: Lease) -> list[Any]:
    return [m["body"] for m in _messages(backend).take_messages(lease)]


def test_a_message_to_a_running_job_reaches_its_worker_once(
    backend: Backend, clock: FakeClock
) -> None:
    # Given a running job
    put_job(backend)
    lease = take(backend).lease
    # When an operator sends it two messages
    assert _post(backend, lease.uuid, {"rate": 5}) == State.RUNNING
    assert _post(backend, lease.uuid, "skip") == State.RUNNING
    # Then its heartbeat's answer says messages wait, and the worker takes them in order
    assert backend.touch(lease) == Control.MESSAGE
    assert backend.save(lease, Progress(completeness=0.2)) == Control.MESSAGE
    taken = _messages(backend).take_messages(lease)
    assert [m["body"] for m in taken] == [{"rate": 5}, "skip"]
    assert taken[0]["sender"] == "alice@ops"
    assert taken[0]["at"] == clock.now
    # And once only: nothing is asked any more
    assert backend.touch(lease) == Control.NONE
    assert _bodies(backend, lease) == []
    # And each is in the job's history, with who sent it
    history = backend.get(lease.uuid, history=True)["history"]
    assert [(h["event"], h["state"], h["worker"], h["detail"]) for h in history[-2:]] == [
        ("message", "running", "alice@ops", '{"rate":5}'),
        ("message", "running", "alice@ops", '"skip"'),
    ]


def test_a_pending_cancel_outranks_a_message(backend: Backend) -> None:
    # Given a running job with a message waiting
    put_job(backend)
    lease = take(backend).lease
    _post(backend, lease.uuid, 1)
    # When an operator cancels it, then sends another message
    backend.act(lease.uuid, "cancel")
    _post(backend, lease.uuid, 2)
    # Then the heartbeat asks for the cancel, and taking the messages leaves it asked
    assert backend.touch(lease) == Control.CANCEL
    assert _bodies(backend, lease) == [1, 2]
    assert backend.touch(lease) == Control.CANCEL


@pytest.mark.parametrize("state", [State.WAITING, State.SCHEDULED, State.PAUSED])
def test_a_message_to_an_idle_job_is_refused_unless_asked_to_wait(
    backend: Backend, state: State
) -> None:
    # Given a job that is not running
    uuid = put_job(backend, delay_seconds=5.0 if state == State.SCHEDULED else 0.0)
    if state == State.PAUSED:
        backend.act(uuid, "pause")
    before = len(backend.get(uuid, history=True)["history"])
    # When a message is sent that must reach a running job / Then it is refused, nothing kept
    with pytest.raises(NotRunning, match="not running"):
        _post(backend, uuid, "now")
    record = backend.get(uuid, history=True)
    assert not record.get("inbox")
    assert len(record["history"]) == before
    # When one is sent to wait / Then it waits in the job's inbox, said in its history
    assert _post(backend, uuid, "later", idle=True) == state
    record = backend.get(uuid, history=True)
    assert [m["body"] for m in record["inbox"]] == ["later"]
    assert record["history"][-1]["event"] == "message-queued"


def test_a_waiting_message_reaches_the_next_run(backend: Backend, clock: FakeClock) -> None:
    # Given a message sent to wait for a waiting job
    uuid = put_job(backend)
    _post(backend, uuid, {"go": True}, idle=True)
    # When the job runs / Then its worker takes the message
    clock.advance(1.0)
    lease = take(backend).lease
    assert lease.uuid == uuid
    assert _bodies(backend, lease) == [{"go": True}]
    assert not backend.get(uuid).get("inbox")


def test_a_finished_job_refuses_messages(backend: Backend) -> None:
    # Given a job that completed
    put_job(backend)
    lease = take(backend).lease
    backend.settle(lease, completed())
    # When a message is sent, even to wait / Then it is refused
    with pytest.raises(NotRunning, match="it is complete"):
        _post(backend, lease.uuid, "hello", idle=True)


def test_an_inbox_holds_a_bounded_number_of_messages(backend: Backend) -> None:
    # Given a running job whose inbox holds two messages at most
    put_job(backend)
    lease = take(backend).lease
    _post(backend, lease.uuid, 1, limit=2)
    _post(backend, lease.uuid, 2, limit=2)
    # When a third is sent / Then it is refused and nothing changes
    with pytest.raises(InboxFull):
        _post(backend, lease.uuid, 3, limit=2)
    assert [m["body"] for m in backend.get(lease.uuid)["inbox"]] == [1, 2]
    # And once the worker took them there is room again
    assert _bodies(backend, lease) == [1, 2]
    _post(backend, lease.uuid, 3, limit=2)
    assert _bodies(backend, lease) == [3]


def test_messages_are_taken_only_under_the_lease(backend: Backend) -> None:
    # Given a running job with a message waiting
    put_job(backend)
    lease = take(backend).lease
    _post(backend, lease.uuid, "x")
    # When a worker whose lease is not the job's takes / Then it is refused, the message kept
    with pytest.raises(ReservationLost):
        _messages(backend).take_messages(Lease(lease.uuid, lease.token + 1, "w2"))
    assert _bodies(backend, lease) == ["x"]


def test_a_message_to_no_job_is_refused(backend: Backend) -> None:
    with pytest.raises(JobNotFound):
        _post(backend, "00000000-0000-7000-8000-000000000000", "x", idle=True)


def test_the_store_bounds_a_message_and_names_its_sender(backend: Backend) -> None:
    # Given a running job and the store in front of its backend
    store = Store(backend)
    put_job(backend)
    lease = take(backend).lease
    # When a message over the size bound is sent / Then it is refused before the backend
    with pytest.raises(PayloadTooLarge):
        store.message(lease.uuid, "x" * MAX_MESSAGE_BYTES)
    # When one of fair size is sent / Then the worker gets it with its sender
    assert store.message(lease.uuid, {"a": [1, 2.5, None]}, sender="bob@host") == State.RUNNING
    (taken,) = store.take_messages(lease)
    assert (taken["body"], taken["sender"]) == ({"a": [1, 2.5, None]}, "bob@host")
