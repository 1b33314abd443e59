"""Queue statistics: the store's own per-day statistics (``today``), and figures derived, when
asked, from a window of the newest finished jobs (by put order): ``wait`` is the time from put
to the first start, ``run`` from the first start to the finish (a job that yields between
batches counts its pauses too). The age of the oldest waiting job is exact while a queue holds
at most one window of waiting jobs; past that it is a lower bound, and says so.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

from zerog import stats as statistics
from zerog.errors import NotSupported
from zerog.model import ALL_STATES, Record, State
from zerog.store import Store

STATE_NAMES = tuple(state.value for state in ALL_STATES)


def paused_queues(store: Store) -> frozenset[str]:
    """The paused queues; none on a backend that cannot pause queues."""
    try:
        return store.paused_queues()
    except NotSupported:
        return frozenset()


def full_counts(per_state: dict[str, int]) -> dict[str, int]:
    """Counts with every state present (0 for none), in the states' order."""
    return {state: int(per_state.get(state, 0)) for state in STATE_NAMES}


def wait_seconds(record: Record) -> float | None:
    """Put → first start, or None if it never started."""
    started = record.get("started_at")
    return None if started is None else max(0.0, started - record["created_at"])


def run_seconds(record: Record) -> float | None:
    """First start → finish, or None if it has not finished after starting."""
    started, finished = record.get("started_at"), record.get("finished_at")
    return None if started is None or finished is None else max(0.0, finished - started)


def describe(values: Iterable[float]) -> dict[str, Any]:
    """count, mean, p50, p95 and max (nearest rank); None for each when empty."""
    ordered = sorted(values)
    if not ordered:
        return {"count": 0, "mean": None, "p50": None, "p95": None, "max": None}
    return {
        "count": len(ordered),
        "mean": sum(ordered) / len(ordered),
        "p50": percentile(ordered, 0.50),
        "p95": percentile(ordered, 0.95),
        "max": ordered[-1],
    }


def percentile(ordered: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile of sorted values."""
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def finished_window(store: Store, queue: str | None, window: int) -> list[Record]:
    """The newest ``window`` complete jobs (of one queue, or of all)."""
    return store.list(state=State.COMPLETE.value, queue=queue, limit=window).records


def oldest_waiting(store: Store, queue: str, window: int, now: float) -> tuple[float | None, bool]:
    """Seconds since the longest-waiting job of the queue became ready, and whether that is
    exact (False: the queue holds more waiting jobs than one window, so it is a lower bound)."""
    page = store.list(state=State.WAITING.value, queue=queue, limit=window)
    if not page.records:
        return None, True
    oldest = min(record["ready_at"] for record in page.records)
    return max(0.0, now - oldest), page.cursor is None


def queue_stats(store: Store, queue: str, counts: dict[str, int], window: int) -> dict[str, Any]:
    """The ``stats`` of ``GET /api/queues/{name}``."""
    finished = finished_window(store, queue, window)
    age, exact = oldest_waiting(store, queue, window, store.clock())
    return {
        "window": window,
        "finished_in_window": len(finished),
        "wait": describe(v for v in map(wait_seconds, finished) if v is not None),
        "run": describe(v for v in map(run_seconds, finished) if v is not None),
        "depth": counts.get(State.WAITING.value, 0),
        "running": counts.get(State.RUNNING.value, 0),
        "oldest_waiting_age_seconds": age,
        "oldest_waiting_exact": exact,
        "today": today(store, queue),
    }


def today(store: Store, queue: str) -> dict[str, Any] | None:
    """qless's statistics of the queue for today (UTC), kept by the store as jobs ran: wait
    and run count, mean, deviation and histogram, failures, retries."""
    try:
        return store.queue_stats(queue)
    except NotSupported:
        return None


def bucket_upper(index: int) -> float:
    """The upper bound in seconds of a bucket of the store's histograms
    (:func:`zerog.stats.bucket_of`): seconds, then minutes, hours, days."""
    if index < statistics.SECOND_BUCKETS:
        return float(index + 1)
    index -= statistics.SECOND_BUCKETS
    if index < statistics.MINUTE_BUCKETS:
        return 60.0 * (index + 2)
    index -= statistics.MINUTE_BUCKETS
    if index < statistics.HOUR_BUCKETS:
        return 3600.0 * (index + 2)
    index -= statistics.HOUR_BUCKETS
    return statistics.DAY * (index + 2) if index < statistics.DAY_BUCKETS - 1 else math.inf


def histogram_quantile(histogram: Sequence[int], fraction: float) -> float | None:
    """The upper bound of the bucket holding the ``fraction`` quantile (None when empty):
    at most one bucket wide of the truth, which is what a histogram can tell."""
    total = sum(histogram)
    if not total:
        return None
    rank = max(1, math.ceil(fraction * total))
    seen = 0
    for index, count in enumerate(histogram):
        seen += count
        if seen >= rank:
            upper = bucket_upper(index)
            return None if math.isinf(upper) else upper
    return None
