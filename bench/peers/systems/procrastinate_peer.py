"""procrastinate on PostgreSQL (psycopg 3): the app its workers load, and its producer.

The schema is applied by the producer before it enqueues (``schema_manager.apply_schema``),
in the run's fresh database. The task is a coroutine: procrastinate's workers are asyncio,
and a sync task would run in the loop's default thread pool (a few threads), which caps
W4's 25 jobs per process.
"""

from __future__ import annotations

import psycopg
from peer import env
from procrastinate import App, PsycopgConnector
from sidechannel import Job, no_report_async, perform_async

app = App(connector=PsycopgConnector(conninfo=env("ZB_PG_DSN")))


@app.task(name="bench_task", queue="bench")
async def task(kind: str, enqueued: float, seconds: float) -> None:
    await perform_async(kind, enqueued, seconds, no_report_async)


class Producer:
    """``task.defer`` one by one, ``task.batch_defer`` in bulk."""

    def __init__(self) -> None:
        app.open()
        with psycopg.connect(env("ZB_PG_DSN")) as conn:  # applied by an earlier producer?
            applied = conn.execute("SELECT to_regclass('procrastinate_jobs')").fetchone()
        if applied is None or applied[0] is None:
            app.schema_manager.apply_schema()

    def one(self, job: Job) -> None:
        task.defer(**job.as_dict())

    def bulk(self, jobs: list[Job]) -> None:
        task.batch_defer(*(job.as_dict() for job in jobs))

    def close(self) -> None:
        app.close()
