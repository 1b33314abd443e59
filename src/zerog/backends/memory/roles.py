"""The memory backend's other roles: queues and workers, schedules, limits, upkeep."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from zerog import recurrence as recurrences
from zerog import stats
from zerog.backends.contract import STALE_WORKER_SECONDS
from zerog.backends.memory._base import PRUNABLE, MemoryState
from zerog.errors import JobNotFound
from zerog.model import Retention


class MemoryQueues(MemoryState):
    """Queue pauses and the worker registry."""

    # --- queues and workers ------------------------------------------------------------------

    def pause_queue(self, queue: str, paused: bool) -> None:
        with self._atomic():
            if paused:
                self._paused.add(queue)
            else:
                self._paused.discard(queue)

    def paused_queues(self) -> frozenset[str]:
        with self._atomic():
            return frozenset(self._paused)

    def register_worker(self, worker: dict[str, Any]) -> None:
        with self._atomic() as now:
            entry = json.loads(json.dumps(worker))
            entry["last_seen"] = now
            self._workers[entry["id"]] = entry
            for worker_id, known in list(self._workers.items()):
                if known["last_seen"] < now - STALE_WORKER_SECONDS:
                    del self._workers[worker_id]

    def unregister_worker(self, worker_id: str) -> None:
        with self._atomic():
            self._workers.pop(worker_id, None)

    def workers(self, max_age_seconds: float) -> list[dict[str, Any]]:
        with self._atomic() as now:
            cutoff = now - max_age_seconds  # a read: stale entries are skipped, not deleted.
            live = sorted(
                (w for w in self._workers.values() if w["last_seen"] >= cutoff),
                key=lambda w: w.get("started_at") or 0,
            )
            copies: list[dict[str, Any]] = json.loads(json.dumps(live))
            return copies


class MemorySchedules(MemoryState):
    """Recurrences."""

    def recur(self, recurrence: dict[str, Any]) -> None:
        with self._atomic():
            doc = json.loads(json.dumps(recurrence))
            known = self._recurrences.get(doc["id"])
            if known is not None:
                doc["count"] = known["count"]  # spawned ids never repeat.
            self._recurrences[doc["id"]] = doc

    def unrecur(self, recurrence_id: str) -> bool:
        with self._atomic():
            return self._recurrences.pop(recurrence_id, None) is not None

    def recurrences(self, queue: str | None = None) -> list[dict[str, Any]]:
        with self._atomic():
            found = [r for r in self._recurrences.values() if queue is None or r["queue"] == queue]
            copies: list[dict[str, Any]] = json.loads(json.dumps(found))
            return copies

    def update_recurrence(self, recurrence_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        with self._atomic() as now:
            doc = self._recurrences.get(recurrence_id)
            if doc is None:
                raise JobNotFound(recurrence_id)
            changed = json.loads(json.dumps(doc))
            recurrences.apply_update(changed, json.loads(json.dumps(changes)), now)
            self._recurrences[recurrence_id] = changed
            copy: dict[str, Any] = json.loads(json.dumps(changed))
            return copy


class MemoryLimits(MemoryState):
    """Concurrency limits."""

    def set_limit(self, name: str, maximum: int | None) -> None:
        with self._atomic():
            if maximum is None:
                self._limits.pop(name, None)
            else:
                self._limits[name] = int(maximum)

    def limits(self) -> dict[str, int]:
        with self._atomic():
            return dict(self._limits)


class MemoryUpkeep(MemoryState):
    """Config, statistics and retention."""

    def config(self) -> dict[str, Any]:
        with self._atomic():
            copy: dict[str, Any] = json.loads(json.dumps(self._config))
            return copy

    def set_config(self, key: str, value: Any) -> None:
        with self._atomic():
            if value is None:
                self._config.pop(key, None)
            else:
                self._config[key] = json.loads(json.dumps(value))

    def add_stats(self, deltas: Sequence[Any]) -> None:
        with self._atomic():
            for delta in deltas:
                key = (delta.queue, delta.day)
                self._stats[key] = stats.merge(self._stats.get(key) or stats.empty(), delta)

    def stats(self, queue: str, day: float) -> dict[str, Any]:
        with self._atomic():
            found = self._stats.get((queue, day)) or stats.empty()
            copy: dict[str, Any] = json.loads(json.dumps(found))
            return copy

    def prune(self, retention: Retention, limit: int = 1000) -> int:
        with self._atomic() as now:
            finished = sorted(
                (r for r in self._jobs.values() if r["state"] in PRUNABLE),
                key=lambda r: (r["finished_at"] or 0, r["_seq"]),
                reverse=True,
            )
            cutoff = now - retention.jobs_seconds
            doomed = [
                r["uuid"]
                for i, r in enumerate(finished)
                if i >= retention.jobs_count or (r["finished_at"] or 0) < cutoff
            ][: max(0, limit)]
            for uuid in doomed:
                del self._jobs[uuid]
                del self._history[uuid]
            self._prune_stats(retention, now)
            return len(doomed)

    def _prune_stats(self, retention: Retention, now: float) -> None:
        today = stats.day_of(now)
        for key in list(self._stats):
            day = key[1]
            if day < today - retention.stats_days * stats.DAY:
                del self._stats[key]
            elif day < today - retention.histogram_days * stats.DAY:
                self._stats[key] = stats.without_histograms(self._stats[key])
