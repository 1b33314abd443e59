"""PgQueuer on PostgreSQL (asyncpg): the factory its workers run, and its producer.

``pgq install`` is what the producer does first (``Queries.install``), in the run's fresh
database. Payloads are the job's JSON bytes.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from peer import env
from pgqueuer import AsyncpgDriver, PgQueuer, Queries
from pgqueuer.models import Job as PgJob
from sidechannel import Job, no_report_async, perform_async

ENTRYPOINT = "bench_task"


@asynccontextmanager
async def create() -> AsyncIterator[PgQueuer]:
    """The factory ``pgq run`` enters in each worker process."""
    connection = await asyncpg.connect(env("ZB_PG_DSN"))
    pgq = PgQueuer(AsyncpgDriver(connection))

    @pgq.entrypoint(ENTRYPOINT)
    async def task(job: PgJob) -> None:
        args = json.loads(job.payload or b"{}")
        await perform_async(args["kind"], args["enqueued"], args["seconds"], no_report_async)

    try:
        yield pgq
    finally:
        await connection.close()


class Producer:
    """``Queries.enqueue`` with one job, or with lists (one statement) in bulk."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.connection = self.loop.run_until_complete(asyncpg.connect(env("ZB_PG_DSN")))
        self.queries = Queries(AsyncpgDriver(self.connection))
        self.loop.run_until_complete(self._install())

    async def _install(self) -> None:
        try:
            await self.queries.install()
        except asyncpg.PostgresError as exc:  # installed already by an earlier producer.
            if "already exists" not in str(exc):
                raise

    def one(self, job: Job) -> None:
        self.loop.run_until_complete(
            self.queries.enqueue(ENTRYPOINT, json.dumps(job.as_dict()).encode())
        )

    def bulk(self, jobs: list[Job]) -> None:
        payloads: list[bytes | None] = [json.dumps(j.as_dict()).encode() for j in jobs]
        self.loop.run_until_complete(
            self.queries.enqueue([ENTRYPOINT] * len(jobs), payloads, [0] * len(jobs))
        )

    def close(self) -> None:
        self.loop.run_until_complete(self.connection.close())
        self.loop.close()
