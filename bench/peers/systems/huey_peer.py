"""Huey on Redis, SQLite or PostgreSQL (``ZB_VARIANT``): the task, and its producer.

Huey's own storages: ``RedisHuey``, ``SqliteHuey`` (a file in the run's directory) and
``PostgresHuey`` (psycopg 3, its own tables in the run's database).
"""

from __future__ import annotations

import os

from huey import Huey, PostgresHuey, RedisHuey, SqliteHuey
from peer import env
from sidechannel import Job, no_report, perform


def make() -> Huey:
    variant = env("ZB_VARIANT")
    if variant == "huey-redis":
        return RedisHuey("bench", url=env("ZB_REDIS_URL"))
    if variant == "huey-sqlite":
        return SqliteHuey("bench", filename=os.path.join(env("ZB_DIR"), "huey.db"))
    return PostgresHuey("bench", dsn=env("ZB_PG_DSN"))


huey = make()


@huey.task()
def task(kind: str, enqueued: float, seconds: float) -> None:
    perform(kind, enqueued, seconds, no_report)


class Producer:
    """A call of the task enqueues it; Huey has no bulk enqueue."""

    def one(self, job: Job) -> None:
        task(job.kind, job.enqueued, job.seconds)

    def bulk(self, jobs: list[Job]) -> None:
        raise NotImplementedError("Huey has no bulk enqueue")

    def close(self) -> None:
        pass
