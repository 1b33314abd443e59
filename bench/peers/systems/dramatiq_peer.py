"""Dramatiq on Redis: the actor its workers import, and its producer (no bulk call)."""

from __future__ import annotations

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from peer import env
from sidechannel import Job, no_report, perform

broker = RedisBroker(url=env("ZB_REDIS_URL"))
dramatiq.set_broker(broker)


@dramatiq.actor(queue_name="bench", max_retries=0)
def task(kind: str, enqueued: float, seconds: float) -> None:
    perform(kind, enqueued, seconds, no_report)


class Producer:
    """``actor.send`` one by one; Dramatiq has no bulk enqueue."""

    def one(self, job: Job) -> None:
        task.send(job.kind, job.enqueued, job.seconds)

    def bulk(self, jobs: list[Job]) -> None:
        raise NotImplementedError("Dramatiq has no bulk enqueue")

    def close(self) -> None:
        broker.close()
