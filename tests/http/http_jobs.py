"""Job types for the HTTP tests: one with a schema that uses most of marshmallow (for the
OpenAPI document and schemathesis), one that runs until cancelled, and store helpers."""

from __future__ import annotations

import enum
import time
from typing import Any

from marshmallow import Schema, fields, validate

from zerog import job_log
from zerog.jobs import BaseJob, BaseJobSchema
from zerog.record import JobSpec
from zerog.store import Store

RICH_TYPE = "http_test_rich"
SLOW_TYPE = "http_test_slow"
QUEUE = "http_test"


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


class OptionsSchema(Schema):
    verbose = fields.Boolean()
    level = fields.Integer(validate=validate.Range(min=0, max=9))


class RichSchema(BaseJobSchema):
    """Fields of many kinds, each with a bound."""

    title = fields.String(required=True, validate=validate.Length(min=1, max=50))
    count = fields.Integer(load_default=1, validate=validate.Range(min=0, max=100))
    ratio = fields.Float(validate=validate.Range(min=0, max=1))
    mode = fields.String(validate=validate.OneOf(["fast", "slow"]))
    labels = fields.List(
        fields.String(validate=validate.Length(max=20)), validate=validate.Length(max=5)
    )
    options = fields.Nested(OptionsSchema)
    note = fields.String(allow_none=True, validate=validate.Length(max=100))
    color = fields.Enum(Color, by_value=True)


class RichJob(BaseJob):
    """A job whose values exercise the schema conversion; it does nothing."""

    JOB_TYPE = RICH_TYPE
    SCHEMA = RichSchema
    QUEUE_NAME = QUEUE

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        for name in RichSchema().fields:
            setattr(self, name, kwargs.get(name))

    def run(self) -> tuple[float, bool]:
        return time.time(), False


class SlowSchema(BaseJobSchema):
    seconds = fields.Float(load_default=30.0, validate=validate.Range(min=0, max=60))


class SlowJob(BaseJob):
    """Logs, then waits in small steps with heartbeats (so a cancel reaches it)."""

    JOB_TYPE = SLOW_TYPE
    SCHEMA = SlowSchema
    QUEUE_NAME = QUEUE

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.seconds = kwargs.get("seconds", 30.0)

    def run(self) -> tuple[float, bool]:
        job_log.info("slow job started")
        deadline = time.monotonic() + self.seconds
        while time.monotonic() < deadline:
            time.sleep(0.05)
            job_log.heartbeat()
        return time.time(), False


FIRST = -(2**40)  # a priority before any other job's: the next reserve takes this one.


def put(
    store: Store, queue: str = QUEUE, job_type: str = RICH_TYPE, priority: int = 0, **values: Any
) -> str:
    """Store a job straight through the facade (no schema), as any face would."""
    return store.enqueue(JobSpec(type=job_type, queue=queue, values=values, priority=priority))


def make_failed(store: Store, queue: str = QUEUE) -> str:
    """A job that ran and failed for good."""
    uuid = put(store, queue, priority=FIRST)
    reservation = store.reserve([queue], "test-worker")
    assert reservation is not None
    assert reservation.lease.uuid == uuid
    store.fail(reservation.lease, {"timeStamp": time.time(), "errorCode": 7, "msg": "broken"})
    return uuid


def make_running(store: Store, queue: str = QUEUE) -> str:
    """A job reserved by a (pretend) worker."""
    uuid = put(store, queue, priority=FIRST)
    reservation = store.reserve([queue], "test-worker")
    assert reservation is not None
    assert reservation.lease.uuid == uuid
    return uuid
