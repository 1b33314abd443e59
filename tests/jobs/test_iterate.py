"""``job_log.iterate`` and ``job_log.messages`` in jobs run inline (zerog.testing.drain) on a
memory store: the cursor survives a requeue, completeness follows the items, queued
messages reach the run."""

from __future__ import annotations

import time
from typing import Any

import pytest
from marshmallow import fields

import zerog
from zerog import job_log
from zerog.jobs import CURSOR_KEY, job_from_record, make_base_job
from zerog.model import Control
from zerog.run_context import RunContext
from zerog.testing import drain, make_store


class RequeueSchema(zerog.BaseJobSchema):
    seen = fields.List(fields.Integer(), load_default=list)
    requeue_at = fields.Integer(load_default=4)


class RequeueHalfway(zerog.BaseJob):
    """Goes over 10 items; on its first run, given item ``requeue_at`` it asks to run again
    (a requeue) before doing it, keeping the items it did in its fields. The item in hand
    when the loop is left is not done: the next run starts with it."""

    JOB_TYPE = "unit_iterate_requeue"
    QUEUE_NAME = "unit_iterate"
    SCHEMA = RequeueSchema

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.seen: list[int] = list(kwargs.get("seen", []))
        self.requeue_at: int = kwargs.get("requeue_at", 4)

    def run(self) -> tuple[float, bool]:
        for item in job_log.iterate(range(10), checkpoint_every=3):
            if self.requeue_at and item == self.requeue_at:
                self.requeue_at = 0
                return time.time(), True
            self.seen.append(item)
        self.result = {"seen": self.seen}
        return time.time(), False


class Listener(zerog.BaseJob):
    JOB_TYPE = "unit_listener"
    QUEUE_NAME = "unit_iterate"

    def run(self) -> tuple[float, bool]:
        self.result = [m["body"] for m in job_log.messages()]
        return time.time(), False


def test_outside_a_job_iterate_yields_every_item_and_checks_its_arguments() -> None:
    assert list(job_log.iterate([1, 2, 3], checkpoint_every=2)) == [1, 2, 3]
    assert job_log.messages() == []
    with pytest.raises(ValueError, match="checkpoint_every"):
        list(job_log.iterate([1], checkpoint_every=0))
    with pytest.raises(ValueError, match="seconds"):
        list(job_log.iterate([1], seconds=0))


def test_a_requeued_job_resumes_at_its_cursor() -> None:
    # Given a job that asks to be requeued at item 4 of its 10
    store = make_store()
    uuid = make_base_job({}, "unit_iterate_requeue").enqueue(store=store)
    # When it runs until it is done
    outcomes = drain(store)
    # Then its second run went on from item 4: every item seen once, in order
    assert outcomes == {"requeued": 1, "completed": 1}
    record = store.get(uuid)
    assert record["result"]["seen"] == list(range(10))
    assert record["values"][CURSOR_KEY] == 10
    assert record["completeness"] == 1.0


def test_a_message_sent_to_wait_reaches_the_run() -> None:
    # Given a job sent two messages before it runs
    store = make_store()
    uuid = make_base_job({}, "unit_listener").enqueue(store=store)
    store.message(uuid, {"rate": 2}, queue_if_idle=True)
    store.message(uuid, "go", queue_if_idle=True)
    # When it runs / Then job_log.messages() gives both, in order, and the inbox is empty
    drain(store)
    record = store.get(uuid)
    assert record["result"] == [{"rate": 2}, "go"]
    assert not record["inbox"]


def test_a_heartbeat_takes_the_messages_and_asks_nothing_after() -> None:
    # Given a running job with a run context, as a worker holds it
    store = make_store()
    uuid = make_base_job({}, "unit_listener").enqueue(store=store)
    reservation = store.reserve(["unit_iterate"], "w")
    assert reservation is not None
    context = RunContext(store, reservation.lease, job_from_record(reservation.record), 60.0)
    # When a message is sent and the heartbeat runs
    store.message(uuid, {"n": 1})
    context.touch()
    # Then the run holds the message, and no request is left (not a stop, for any face)
    assert context.control == Control.NONE
    assert [m["body"] for m in context.messages()] == [{"n": 1}]
    assert store.heartbeat(reservation.lease) == Control.NONE
