"""Group commit for ``POST /api/jobs/{type}``: jobs posted while a write is under way are stored
together, in one transaction, when the next write starts.

One job per transaction makes an embedded store write-bound long before the server is busy:
each SQLite commit costs more than everything else a POST does. So each validated job joins a
batch; one write at a time stores a whole batch with ``Store.enqueue_many`` and answers each of
its requests. A request is answered only after its job's transaction committed, exactly as
before; under light load a batch holds one job and nothing waits. If a batch fails (one job
over a size limit, say; ``enqueue_many`` stores none then), its jobs are stored one by one, so
that each request gets its own answer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Protocol, TypeVar

from zerog.record import JobSpec
from zerog.store import Store

T = TypeVar("T")
MAX_BATCH = 500  # jobs per transaction; a larger batch holds the write lock too long.


class Runs(Protocol):
    """What runs store calls off the event loop (an ApiContext)."""

    async def run(self, call: Callable[[Store], T]) -> T:
        """``call(store)``, awaited."""
        ...


class EnqueueBatcher:
    """Stores job specs in batches, one batch write at a time (all on one event loop)."""

    def __init__(self, runs: Runs) -> None:
        self._runs = runs
        self._pending: list[tuple[JobSpec, asyncio.Future[str]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def enqueue(self, spec: JobSpec) -> str:
        """Store ``spec``; returns its uuid once it is committed (or raises its error)."""
        future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._pending.append((spec, future))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.ensure_future(self._write_all())
        return await future

    async def _write_all(self) -> None:
        while self._pending:
            batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
            await self._write(batch)

    async def _write(self, batch: list[tuple[JobSpec, asyncio.Future[str]]]) -> None:
        specs = [spec for spec, _ in batch]
        try:
            outcomes = await self._store(specs)
        except Exception as exc:  # the executor itself failed: every request hears of it.
            outcomes = [exc] * len(batch)
        for (_, future), outcome in zip(batch, outcomes, strict=True):
            if future.done():  # its request went away; the job is stored all the same.
                continue
            if isinstance(outcome, BaseException):
                future.set_exception(outcome)
            else:
                future.set_result(outcome)

    async def _store(self, specs: list[JobSpec]) -> list[str | BaseException]:
        """All in one transaction; if that fails, each in its own."""
        try:
            uuids = await self._runs.run(lambda store: store.enqueue_many(specs))
        except Exception:
            return await self._runs.run(lambda store: _one_by_one(store, specs))
        return list(uuids)


def _one_by_one(store: Store, specs: list[JobSpec]) -> list[str | BaseException]:
    """Each job in its own transaction; an error is returned in its place."""
    outcomes: list[str | BaseException] = []
    for spec in specs:
        try:
            outcomes.append(store.enqueue(spec))
        except Exception as exc:  # handed to that job's request, which answers it.
            outcomes.append(exc)
    return outcomes
