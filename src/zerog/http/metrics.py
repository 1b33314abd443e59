"""``GET /metrics``: Prometheus text, from the store (shared by every process) and from this
server process.

Store-wide (true for every process on the store): jobs by queue and state, queue depth,
paused queues, the oldest waiting job's age, running and stalled jobs, live workers.

This process only (counters of this server's :class:`~zerog.store.Store` facade, reset when it
restarts): enqueued, completed, failed, retried, kicked and recovered-lease totals, and the
HTTP request metrics. Jobs run by worker processes settle in those processes, so a server's
``completed`` and ``failed`` totals stay 0 unless jobs are settled through it; the store-wide
``zerog_jobs{state="complete"}`` gauge is the cross-process view.

Windowed (not cumulative): run and wait durations of the newest finished jobs, exposed as
gauges per bucket (``le`` label) so that ``histogram_quantile`` works on them; they are not
Prometheus histograms because a window can shrink, and ``rate()`` of them means nothing.
"""

from __future__ import annotations

import bisect
from collections import Counter
from dataclasses import dataclass

from zerog import __version__
from zerog.errors import NotSupported
from zerog.http import _prom, _stats
from zerog.http._base import ApiHandler
from zerog.model import Record, State
from zerog.store import Store

PROCESS_TOTALS = {
    "zerog_jobs_enqueued_total": ("put", "Jobs enqueued through this process"),
    "zerog_jobs_completed_total": ("completed", "Jobs completed through this process"),
    "zerog_jobs_failed_total": ("failed", "Jobs failed for good through this process"),
    "zerog_jobs_retried_total": ("retried", "Job runs retried after an error, in this process"),
    "zerog_jobs_kicked_total": ("kicked", "Failed jobs kicked back to their queue by this process"),
    "zerog_leases_recovered_total": (
        "rescued",
        "Jobs whose lease expired (worker lost) recovered by this process",
    ),
}


@dataclass
class Snapshot:
    """Everything one scrape reads from the store, read in one executor call."""

    counts: dict[str, dict[str, int]]
    paused: frozenset[str]
    workers: int | None
    finished: list[Record]
    oldest: dict[str, tuple[float | None, bool]]
    counters: Counter[str]
    stalled: Counter[str]  # stalled running jobs per queue (see zerog.stalls).


def snapshot(store: Store, window: int) -> Snapshot:
    """Read what the metrics need (blocking: runs on the executor)."""
    counts = store.counts()
    try:
        workers: int | None = len(store.workers())
    except NotSupported:
        workers = None
    now = store.clock()
    oldest = {
        queue: _stats.oldest_waiting(store, queue, window, now)
        for queue, per_state in counts.items()
        if per_state.get(State.WAITING.value)
    }
    return Snapshot(
        counts=counts,
        paused=_stats.paused_queues(store),
        workers=workers,
        finished=_stats.finished_window(store, None, window),
        oldest=oldest,
        counters=Counter(store.counters),
        stalled=_stalled(store, counts),
    )


def _stalled(store: Store, counts: dict[str, dict[str, int]]) -> Counter[str]:
    """Stalled jobs per queue; every queue that runs jobs gets a sample, 0 included, so an
    alert rule sees the series before the first stall."""
    stalled = Counter({q: 0 for q, per in counts.items() if per.get(State.RUNNING.value)})
    stalled.update(record["queue"] for record in store.stalled())
    return stalled


def render(snap: Snapshot, window: int) -> str:
    """The exposition text."""
    lines = _prom.family("zerog_info", "gauge", "zerog's version.", [(1, {"version": __version__})])
    lines += _jobs(snap)
    lines += _queues(snap)
    lines += _process_totals(snap.counters)
    lines += _durations(snap.finished, window)
    return "\n".join(lines) + "\n"


def _jobs(snap: Snapshot) -> list[str]:
    lines = _prom.family(
        "zerog_jobs",
        "gauge",
        "Jobs stored, by queue and state (store-wide).",
        (
            (count, {"queue": queue, "state": state})
            for queue, per_state in sorted(snap.counts.items())
            for state, count in sorted(per_state.items())
        ),
    )
    running = sum(per.get(State.RUNNING.value, 0) for per in snap.counts.values())
    lines += _prom.family(
        "zerog_jobs_running", "gauge", "Jobs running now (store-wide).", [(running, None)]
    )
    lines += _prom.family(
        "zerog_jobs_stalled",
        "gauge",
        "Running jobs whose lease is alive but that reported nothing for longer than their "
        "stall threshold, per queue (store-wide).",
        ((n, {"queue": queue}) for queue, n in sorted(snap.stalled.items())),
    )
    if snap.workers is not None:  # a backend with no worker registry has no such number.
        lines += _prom.family(
            "zerog_workers", "gauge", "Live workers (store-wide).", [(snap.workers, None)]
        )
    return lines


def _queues(snap: Snapshot) -> list[str]:
    names = sorted(set(snap.counts) | snap.paused)
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
        "Seconds since the longest-waiting job of the queue became ready; a lower bound when "
        "zerog_queue_oldest_waiting_exact is 0 (more waiting jobs than one window).",
        ((age, {"queue": q}) for q, (age, _) in sorted(snap.oldest.items()) if age is not None),
    )
    lines += _prom.family(
        "zerog_queue_oldest_waiting_exact",
        "gauge",
        "1 when zerog_queue_oldest_waiting_age_seconds is exact.",
        ((int(exact), {"queue": q}) for q, (_, exact) in sorted(snap.oldest.items())),
    )
    return lines


def _process_totals(counters: Counter[str]) -> list[str]:
    lines: list[str] = []
    for name, (event, text) in PROCESS_TOTALS.items():
        lines += _prom.family(
            name, "counter", f"{text} (process-local).", [(counters[event], None)]
        )
    lines += _prom.family(
        "zerog_store_events_total",
        "counter",
        "Every state change made through this process's store, by event (process-local).",
        ((count, {"event": event}) for event, count in sorted(counters.items())),
    )
    return lines


def _durations(finished: list[Record], window: int) -> list[str]:
    lines: list[str] = []
    for name, measure, what in (
        ("zerog_window_job_wait_seconds", _stats.wait_seconds, "put to first start"),
        ("zerog_window_job_run_seconds", _stats.run_seconds, "first start to finish"),
    ):
        per_queue: dict[str, list[float]] = {}
        for record in finished:
            value = measure(record)
            if value is not None:
                per_queue.setdefault(record["queue"], []).append(value)
        lines += _window_family(
            name, f"Seconds from {what} of the newest {window} complete jobs.", per_queue
        )
    return lines


def _window_family(name: str, help_text: str, per_queue: dict[str, list[float]]) -> list[str]:
    """Three gauge families shaped like a histogram's series (``_bucket`` with ``le``,
    ``_sum``, ``_count``), each declared on its own so every sample matches its TYPE line."""
    buckets, sums, counts = [], [], []
    for queue, values in sorted(per_queue.items()):
        ordered = sorted(values)
        for bound in _prom.DURATION_BUCKETS:
            buckets.append((bisect.bisect_right(ordered, bound), _le(queue, bound)))
        buckets.append((len(ordered), {"queue": queue, "le": "+Inf"}))
        sums.append((sum(ordered), {"queue": queue}))
        counts.append((len(ordered), {"queue": queue}))
    note = " (a window, not a cumulative histogram)"
    lines = _prom.family(f"{name}_bucket", "gauge", f"{help_text} Jobs per bucket{note}.", buckets)
    lines += _prom.family(f"{name}_sum", "gauge", f"{help_text} Sum{note}.", sums)
    lines += _prom.family(f"{name}_count", "gauge", f"{help_text} Count{note}.", counts)
    return lines


def _le(queue: str, bound: float) -> dict[str, str]:
    return {"queue": queue, "le": _prom.number(bound)}


class MetricsHandler(ApiHandler):
    """``GET /metrics``."""

    async def get(self) -> None:
        window = self.api.limits.window_jobs
        snap = await self.call(lambda store: snapshot(store, window))
        text = render(snap, window) + "\n".join(self.api.http_metrics.lines()) + "\n"
        self.set_header("Content-Type", _prom.CONTENT_TYPE)
        self.finish(text)
