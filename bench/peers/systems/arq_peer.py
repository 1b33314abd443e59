"""arq on Redis: the worker settings its workers load, and its producer (asyncio).

``max_jobs`` (arq's per-process concurrency, default 10) is set only when the workload asks
for concurrency (W4).
"""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

from arq import create_pool
from arq.connections import RedisSettings
from peer import concurrency, env
from sidechannel import Job, no_report_async, perform_async

REDIS = RedisSettings.from_dsn(env("ZB_REDIS_URL"))


async def task(ctx: dict[str, Any], kind: str, enqueued: float, seconds: float) -> None:
    await perform_async(kind, enqueued, seconds, no_report_async)


class WorkerSettings:
    functions: ClassVar[list[Any]] = [task]
    redis_settings = REDIS
    max_jobs = concurrency() or 10  # 10: arq's default.


class Producer:
    """``enqueue_job`` one by one on one loop; arq has no bulk enqueue."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.pool = self.loop.run_until_complete(create_pool(REDIS))

    def one(self, job: Job) -> None:
        self.loop.run_until_complete(
            self.pool.enqueue_job("task", job.kind, job.enqueued, job.seconds)
        )

    def bulk(self, jobs: list[Job]) -> None:
        raise NotImplementedError("arq has no bulk enqueue")

    def close(self) -> None:
        self.loop.run_until_complete(self.pool.aclose())
        self.loop.close()
