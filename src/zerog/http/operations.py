"""What an operator looks at besides jobs: concurrency limits with how full they are, the
store's daily statistics per queue (the dashboard's throughput and latency), and stopping a
recurring job.

``GET /api/stats/daily`` answers from the statistics every worker adds up as it settles runs
and flushes to the store (:meth:`zerog.store.Store.queue_stats`): exact counts of completed,
failed and retried runs per queue and UTC day, and wait/run histograms, whatever the number of
jobs, rather than a sample of the newest few hundred.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from zerog import stats as statistics
from zerog.http import _stats
from zerog.http._base import ApiError, ApiHandler
from zerog.model import State
from zerog.store import MAX_PAGE, Store

MAX_DAYS = 31  # days one daily-statistics request may ask for.
MAX_QUEUES = 100  # queues one daily-statistics request reads (one store read per queue-day).
QUEUE_LIMIT = "queue:"  # a queue's own limit is named queue:<queue>.


def limits_view(store: Store) -> dict[str, Any]:
    """Every limit with how many jobs count against it now."""
    limits = store.limits()
    running = _running_per_limit(store) if limits else Counter()
    return {
        "limits": [
            {
                "name": name,
                "maximum": maximum,
                "running": running[name],
                "queue": name[len(QUEUE_LIMIT) :] if name.startswith(QUEUE_LIMIT) else None,
            }
            for name, maximum in sorted(limits.items())
        ]
    }


def _running_per_limit(store: Store) -> Counter[str]:
    """Running jobs per limit name: their queue's and their throttles (running jobs are as
    many as worker slots, so reading them all is cheap)."""
    found: Counter[str] = Counter()
    cursor: str | None = None
    while True:
        page = store.list(state=State.RUNNING.value, limit=MAX_PAGE, cursor=cursor)
        for record in page.records:
            found[QUEUE_LIMIT + record["queue"]] += 1
            found.update(record.get("throttles") or ())
        if page.cursor is None:
            return found
        cursor = page.cursor


def daily(store: Store, days: int) -> dict[str, Any]:
    """Per UTC day (oldest first) and queue: completed, failed and retried runs, with wait
    and run means; today's also with wait/run p50 and p95 from the histograms."""
    queues = sorted(set(store.counts()) | _stats.paused_queues(store))[:MAX_QUEUES]
    today = statistics.day_of(store.clock())
    out = []
    for back in range(days - 1, -1, -1):
        day = today - back * statistics.DAY
        per_queue = {q: _day_of_queue(store, q, day, with_quantiles=back == 0) for q in queues}
        out.append({"day": day, "queues": per_queue})
    return {"days": out, "queues": queues}


def _day_of_queue(store: Store, queue: str, day: float, with_quantiles: bool) -> dict[str, Any]:
    summary = store.queue_stats(queue, day)
    entry: dict[str, Any] = {
        "completed": summary["run"]["count"],
        "failed": summary["failures"],
        "retried": summary["retries"],
        "wait_mean": summary["wait"]["mean"] if summary["wait"]["count"] else None,
        "run_mean": summary["run"]["mean"] if summary["run"]["count"] else None,
    }
    if with_quantiles:
        for name in statistics.TIMINGS:
            histogram = summary[name]["histogram"]
            entry[f"{name}_p50"] = _stats.histogram_quantile(histogram, 0.5)
            entry[f"{name}_p95"] = _stats.histogram_quantile(histogram, 0.95)
    return entry


class LimitsHandler(ApiHandler):
    """``GET /api/limits``: every concurrency limit, its maximum and how many run now; 501 on
    a backend without limits."""

    async def get(self) -> None:
        self.send_json(await self.call(limits_view))


class DailyStatsHandler(ApiHandler):
    """``GET /api/stats/daily?days=N``: the store's statistics of the last N UTC days (default
    14, at most 31); 501 on a backend that keeps none."""

    async def get(self) -> None:
        days = self.int_arg("days", 14, 1, MAX_DAYS)
        self.send_json(await self.call(lambda store: daily(store, days)))


class RecurringHandler(ApiHandler):
    """``DELETE /api/recurring/{id}``: stop a recurring job (the jobs it spawned stay)."""

    async def delete(self, recurrence_id: str) -> None:
        rid = self.param(recurrence_id, "the recurring job's id")

        def stop(store: Store) -> None:
            if not store.unrecur(rid):
                raise ApiError(404, f"no recurring job with id {rid!r}")

        await self.call(stop)
        self.send_json({"id": rid, "stopped": True})
