"""RQ on Redis: the task its workers import by path, and its producer.

Progress (W5) goes where RQ users put it: ``job.meta`` saved with ``save_meta()``.
"""

from __future__ import annotations

from peer import env
from redis import Redis
from rq import Queue, get_current_job
from sidechannel import Job, perform

QUEUE = "bench"


def report(fraction: float) -> None:
    job = get_current_job()
    assert job is not None
    job.meta["progress"] = fraction
    job.save_meta()


def task(kind: str, enqueued: float, seconds: float) -> None:
    perform(kind, enqueued, seconds, report)


class Producer:
    """``Queue.enqueue`` one by one, ``Queue.enqueue_many`` (one pipeline) in bulk."""

    def __init__(self) -> None:
        self.redis = Redis.from_url(env("ZB_REDIS_URL"))
        self.queue = Queue(QUEUE, connection=self.redis)

    def one(self, job: Job) -> None:
        self.queue.enqueue(task, job.kind, job.enqueued, job.seconds)

    def bulk(self, jobs: list[Job]) -> None:
        self.queue.enqueue_many(
            [Queue.prepare_data(task, (j.kind, j.enqueued, j.seconds)) for j in jobs]
        )

    def close(self) -> None:
        self.redis.close()
