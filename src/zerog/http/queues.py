"""Queue and worker routes: counts per state, pause and resume, kick, live workers.

A queue exists while it holds jobs or is paused; ``GET /api/queues/{name}`` of any other name is
a 404 (a typo should not look like an empty queue), while pausing a queue with no job yet is
allowed, as the backends allow it.
"""

from __future__ import annotations

from typing import Any

from zerog.http import _stats
from zerog.http._base import ApiError, ApiHandler
from zerog.store import Store

QUEUE_ACTIONS = ("pause", "resume", "kick")


def queue_list(store: Store) -> dict[str, Any]:
    """Every queue: its counts per state and whether it is paused."""
    counts = store.counts()
    paused = _stats.paused_queues(store)
    names = sorted(set(counts) | paused)
    return {
        "queues": [
            {
                "name": name,
                "counts": _stats.full_counts(counts.get(name, {})),
                "paused": name in paused,
            }
            for name in names
        ]
    }


def queue_view(store: Store, name: str, window: int) -> dict[str, Any]:
    """One queue with its stats; 404 when it holds no job and is not paused."""
    counts = store.counts()
    paused = _stats.paused_queues(store)
    if name not in counts and name not in paused:
        known = sorted(set(counts) | paused)
        raise ApiError(404, f"no queue named {name!r}", queues=known[:100])
    per_state = _stats.full_counts(counts.get(name, {}))
    return {
        "name": name,
        "counts": per_state,
        "paused": name in paused,
        "stats": _stats.queue_stats(store, name, per_state, window),
    }


class QueueListHandler(ApiHandler):
    """``GET /api/queues``."""

    async def get(self) -> None:
        self.send_json(await self.call(queue_list))


class QueueHandler(ApiHandler):
    """``GET /api/queues/{name}``."""

    async def get(self, name: str) -> None:
        name = self.param(name, "the queue name")
        window = self.api.limits.window_jobs
        self.send_json(await self.call(lambda store: queue_view(store, name, window)))


class QueueActionHandler(ApiHandler):
    """``POST /api/queues/{name}/{pause,resume,kick}``; kick takes ``?count=N`` (default 1)."""

    async def post(self, name: str, action: str) -> None:
        name = self.param(name, "the queue name")
        if action == "kick":
            count = self.int_arg("count", 1, 1, self.api.limits.max_kick)
            kicked = await self.call(lambda store: store.kick(name, count))
            self.send_json({"queue": name, "kicked": kicked})
            return
        paused = action == "pause"
        await self.call(lambda store: _pause(store, name, paused))
        self.send_json({"queue": name, "paused": paused})


def _pause(store: Store, name: str, paused: bool) -> None:
    if paused:
        store.pause_queue(name)
    else:
        store.resume_queue(name)


class WorkerListHandler(ApiHandler):
    """``GET /api/workers``: live workers (host, pid, queues, current jobs, last heartbeat);
    501 on a backend with no worker registry."""

    async def get(self) -> None:
        workers = await self.call(lambda store: store.workers())
        self.send_json({"workers": workers})


class RecurringListHandler(ApiHandler):
    """``GET /api/recurring``: the recurring jobs (schedule, next due time, jobs spawned)."""

    async def get(self) -> None:
        found = await self.call(lambda store: store.recurrences())
        self.send_json({"recurring": found})
