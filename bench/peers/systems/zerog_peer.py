"""zerog on every backend: the job class its workers import, and its producer.

The URL comes from ``ZB_ZEROG_URL`` (the runner builds one per run: a fresh SQLite file, a
fresh PostgreSQL database, fresh beanstalk tubes, a flushed Redis). Jobs carry their
arguments as the job's values, JSON like every zerog record.
"""

from __future__ import annotations

import time
from contextlib import suppress

from marshmallow import fields
from peer import Unavailable, env
from sidechannel import Job, perform

import zerog
from zerog.errors import ConfigurationError
from zerog.record import JobSpec
from zerog.store import Store

QUEUE = "bench"
TYPE = "bench_peer"


class PeerSchema(zerog.jobs.BaseJobSchema):
    kind = fields.String(required=True)
    enqueued = fields.Float(load_default=0.0)
    seconds = fields.Float(load_default=0.0)


class PeerJob(zerog.BaseJob):
    """Does what ``sidechannel.perform`` says; progress through ``job_log``."""

    JOB_TYPE = TYPE
    QUEUE_NAME = QUEUE
    SCHEMA = PeerSchema

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.kind = str(kwargs["kind"])
        self.enqueued = float(kwargs.get("enqueued", 0.0))  # type: ignore[arg-type]
        self.seconds = float(kwargs.get("seconds", 0.0))  # type: ignore[arg-type]

    def run(self) -> tuple[float, bool]:
        perform(self.kind, self.enqueued, self.seconds, zerog.job_log.set_completeness)
        return time.time(), False


def spec(job: Job) -> JobSpec:
    return JobSpec(type=TYPE, queue=QUEUE, values=job.as_dict())


class Producer:
    """``Store.enqueue`` one by one, ``Store.enqueue_many`` in bulk."""

    def __init__(self) -> None:
        try:
            self.store = Store.from_url(env("ZB_ZEROG_URL"))
        except ConfigurationError as exc:
            raise Unavailable(str(exc)) from exc

    def one(self, job: Job) -> None:
        self.store.enqueue(spec(job))

    def bulk(self, jobs: list[Job]) -> None:
        self.store.enqueue_many([spec(job) for job in jobs])

    def close(self) -> None:
        with suppress(Exception):
            self.store.close()
