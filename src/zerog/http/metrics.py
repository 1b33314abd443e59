"""``GET /metrics``: Prometheus text for the whole fleet, read from the store.

Every figure about jobs comes from the store that every worker shares, so any one server (or
several, behind a load balancer) reports the same numbers whichever process ran the jobs:

- gauges: jobs by queue and state, queue depth, paused queues, the oldest waiting job's age,
  running and stalled jobs, live workers. Each is present at 0 for every queue the store
  knows (a queue with jobs, or a paused one), so an alert rule sees the series before the
  first event it watches for;
- counters and histograms from the store's per-queue statistics of today (UTC), which every
  worker adds up as it settles runs and flushes within a few seconds
  (:mod:`zerog.stats_buffer`): completed, failed and retried runs, and real histograms of
  the wait (ready to start) and run (start to completion) times. They restart from 0 at
  00:00 UTC, when the store starts the next day's statistics: Prometheus' ``rate()`` and
  ``increase()`` take that as a counter reset.

Process-local, and named so: the state changes made through this server's own store facade
(``zerog_server_store_events_total``) and the HTTP request metrics.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from zerog import __version__
from zerog.errors import NotSupported
from zerog.http import _prom, _stats
from zerog.http._base import ApiHandler
from zerog.model import State
from zerog.store import Store

MAX_QUEUES = 1000  # queues whose statistics one scrape reads (one store read each).
STATS_BUCKETS = (
    1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0, 7200.0, 21600.0,
    43200.0, 86400.0, 172800.0, 604800.0,
)  # fmt: skip
"""``le`` bounds of the job histograms: each is a bound of the store's own buckets (seconds,
then minutes, hours and days), so every count is exact."""
COUNTERS = (
    ("zerog_jobs_completed_total", "completed", "Runs that completed"),
    ("zerog_jobs_failed_total", "failed", "Runs that failed for good (the job is failed)"),
    ("zerog_jobs_retried_total", "retried", "Runs that failed and were retried"),
)
TODAY = " today (UTC), store-wide; restarts from 0 at 00:00 UTC"


@dataclass
class Snapshot:
    """Everything one scrape reads from the store, read in one executor call."""

    counts: dict[str, dict[str, int]]
    paused: frozenset[str]
    workers: int | None
    oldest: dict[str, tuple[float | None, bool]]
    stalled: Counter[str]  # stalled running jobs per queue (see zerog.stalls).
    today: dict[str, dict[str, Any]] | None  # per queue: Store.queue_stats; None: not kept.
    counters: Counter[str] = field(default_factory=Counter)

    @property
    def queues(self) -> list[str]:
        """Every queue the store knows: with jobs, or paused."""
        return sorted(set(self.counts) | self.paused)


def snapshot(store: Store, window: int) -> Snapshot:
    """Read what the metrics need (blocking: runs on the executor)."""
    counts = store.counts()
    paused = _stats.paused_queues(store)
    queues = sorted(set(counts) | paused)
    now = store.clock()
    return Snapshot(
        counts=counts,
        paused=paused,
        workers=_workers(store),
        oldest={q: _stats.oldest_waiting(store, q, window, now) for q in queues},
        stalled=Counter(record["queue"] for record in store.stalled()),
        today=_today(store, queues[:MAX_QUEUES]),
        counters=Counter(store.counters),
    )


def _workers(store: Store) -> int | None:
    try:
        return len(store.workers())
    except NotSupported:
        return None  # a backend with no worker registry has no such number.


def _today(store: Store, queues: list[str]) -> dict[str, dict[str, Any]] | None:
    try:
        return {queue: store.queue_stats(queue) for queue in queues}
    except NotSupported:
        return None  # a backend without upkeep keeps no statistics.


def render(snap: Snapshot) -> str:
    """The exposition text."""
    lines = _prom.family("zerog_info", "gauge", "zerog's version.", [(1, {"version": __version__})])
    lines += _jobs(snap)
    lines += _queues(snap)
    if snap.today is not None:
        lines += _counters(snap.today)
        lines += _histograms(snap.today)
    lines += _prom.family(
        "zerog_server_store_events_total",
        "counter",
        "State changes made through this server process's own store, by event "
        "(process-local: workers' changes are in the store-wide families).",
        ((count, {"event": event}) for event, count in sorted(snap.counters.items())),
    )
    return "\n".join(lines) + "\n"


def _jobs(snap: Snapshot) -> list[str]:
    lines = _prom.family(
        "zerog_jobs",
        "gauge",
        "Jobs stored, by queue and state (store-wide).",
        (
            (count, {"queue": queue, "state": state})
            for queue in snap.queues
            for state, count in _stats.full_counts(snap.counts.get(queue, {})).items()
        ),
    )
    running = sum(per.get(State.RUNNING.value, 0) for per in snap.counts.values())
    lines += _prom.family(
        "zerog_jobs_running", "gauge", "Jobs running now (store-wide).", [(running, None)]
    )
    lines += _prom.family(
        "zerog_jobs_stalled",
        "gauge",
        "Running jobs whose lease is alive but that made no progress for longer than their "
        "stall threshold, per queue (store-wide).",
        ((snap.stalled[queue], {"queue": queue}) for queue in snap.queues),
    )
    if snap.workers is not None:
        lines += _prom.family(
            "zerog_workers", "gauge", "Live workers (store-wide).", [(snap.workers, None)]
        )
    return lines


def _queues(snap: Snapshot) -> list[str]:
    names = snap.queues
    lines = _prom.family(
        "zerog_queue_depth",
        "gauge",
        "Jobs waiting to run, per queue (store-wide; due scheduled jobs not included).",
        ((snap.counts.get(q, {}).get(State.WAITING.value, 0), {"queue": q}) for q in names),
    )
    lines += _prom.family(
        "zerog_queue_paused",
        "gauge",
        "1 when the queue is paused.",
        ((int(q in snap.paused), {"queue": q}) for q in names),
    )
    lines += _prom.family(
        "zerog_queue_oldest_waiting_age_seconds",
        "gauge",
        "Seconds since the longest-waiting job of the queue became ready (0: none waits); a "
        "lower bound when zerog_queue_oldest_waiting_exact is 0 (more waiting jobs than one "
        "window).",
        ((snap.oldest[q][0] or 0, {"queue": q}) for q in names),
    )
    lines += _prom.family(
        "zerog_queue_oldest_waiting_exact",
        "gauge",
        "1 when zerog_queue_oldest_waiting_age_seconds is exact.",
        ((int(snap.oldest[q][1]), {"queue": q}) for q in names),
    )
    return lines


def _counters(today: dict[str, dict[str, Any]]) -> list[str]:
    figures = {
        "completed": lambda s: s["run"]["count"],
        "failed": lambda s: s["failures"],
        "retried": lambda s: s["retries"],
    }
    lines: list[str] = []
    for name, key, text in COUNTERS:
        lines += _prom.family(
            name,
            "counter",
            f"{text}{TODAY}.",
            ((figures[key](stats), {"queue": queue}) for queue, stats in sorted(today.items())),
        )
    return lines


def _histograms(today: dict[str, dict[str, Any]]) -> list[str]:
    lines: list[str] = []
    for timing, what in (("wait", "from ready to started"), ("run", "from started to complete")):
        histograms: dict[tuple[tuple[str, str], ...], _prom.Histogram] = {
            (("queue", queue),): _histogram(stats[timing]) for queue, stats in today.items()
        }
        lines += _prom.histogram_family(
            f"zerog_job_{timing}_seconds", f"Seconds {what}, per run{TODAY}.", histograms
        )
    return lines


def _histogram(timing: dict[str, Any]) -> _prom.Histogram:
    """A Prometheus histogram from one of the store's (its buckets summed up to each bound)."""
    histogram = _prom.Histogram(STATS_BUCKETS)
    for index, count in enumerate(timing["histogram"]):
        if count:
            upper = _stats.bucket_upper(index)
            slot = next((i for i, b in enumerate(STATS_BUCKETS) if upper <= b), None)
            if slot is not None:
                histogram.counts[slot] += count
    histogram.count = int(timing["count"])
    histogram.total = float(timing["mean"]) * histogram.count
    return histogram


class MetricsHandler(ApiHandler):
    """``GET /metrics``."""

    async def get(self) -> None:
        window = self.api.limits.window_jobs
        snap = await self.call(lambda store: snapshot(store, window))
        text = render(snap) + "\n".join(self.api.http_metrics.lines()) + "\n"
        self.set_header("Content-Type", _prom.CONTENT_TYPE)
        self.finish(text)
