"""Per-queue, per-day statistics (qless's): how long jobs waited and ran, failures, retries.

Each process adds up what it saw in a :class:`StatsDelta` and the Store flushes the sums to
the backend every few seconds (:meth:`Backend.add_stats`), so that the reserve and settle
steps, the hot path, write nothing more. A process killed between flushes loses those few
seconds of statistics, never a job.

Times are kept as a count, a sum and a sum of squares (for the mean and the standard
deviation) and a histogram of :data:`BUCKETS` buckets: one per second for the first minute,
one per minute for the rest of the first hour, one per hour for the rest of the first day,
then one per day (the last bucket holds everything longer).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

DAY = 86400.0
SECOND_BUCKETS = 60
MINUTE_BUCKETS = 59  # minutes 1..59
HOUR_BUCKETS = 23  # hours 1..23
DAY_BUCKETS = 30  # days 1..30; longer goes in the last.
BUCKETS = SECOND_BUCKETS + MINUTE_BUCKETS + HOUR_BUCKETS + DAY_BUCKETS
TIMINGS = ("wait", "run")
COUNTERS = ("failures", "retries")


def day_of(at: float) -> float:
    """The start (UTC midnight) of the day ``at`` falls in."""
    return math.floor(at / DAY) * DAY


def bucket_of(seconds: float) -> int:
    """The histogram bucket of a duration."""
    s = max(0.0, seconds)
    if s < 60:
        return int(s)
    if s < 3600:
        return SECOND_BUCKETS + int(s // 60) - 1
    if s < DAY:
        return SECOND_BUCKETS + MINUTE_BUCKETS + int(s // 3600) - 1
    days = min(DAY_BUCKETS, int(s // DAY))
    return SECOND_BUCKETS + MINUTE_BUCKETS + HOUR_BUCKETS + days - 1


@dataclass
class Timing:
    """Sums of some durations, enough for their count, mean, deviation and histogram."""

    count: int = 0
    total: float = 0.0
    squares: float = 0.0
    histogram: dict[int, int] = field(default_factory=dict)

    def add(self, seconds: float) -> None:
        """Count one duration."""
        self.count += 1
        self.total += seconds
        self.squares += seconds * seconds
        bucket = bucket_of(seconds)
        self.histogram[bucket] = self.histogram.get(bucket, 0) + 1


@dataclass
class StatsDelta:
    """What one process saw of one queue on one day since its last flush."""

    queue: str
    day: float
    wait: Timing = field(default_factory=Timing)
    run: Timing = field(default_factory=Timing)
    failures: int = 0
    retries: int = 0


def empty() -> dict[str, Any]:
    """Stored statistics of a queue-day with nothing counted yet."""
    return {
        "wait": {"count": 0, "total": 0.0, "squares": 0.0, "histogram": [0] * BUCKETS},
        "run": {"count": 0, "total": 0.0, "squares": 0.0, "histogram": [0] * BUCKETS},
        "failures": 0,
        "retries": 0,
    }


def merge(stored: dict[str, Any], delta: StatsDelta) -> dict[str, Any]:
    """Stored statistics plus a delta (a new document; ``stored`` is not changed)."""
    out: dict[str, Any] = {
        "wait": dict(stored["wait"]),
        "run": dict(stored["run"]),
        "failures": int(stored["failures"]) + delta.failures,
        "retries": int(stored["retries"]) + delta.retries,
    }
    for name in TIMINGS:
        timing: Timing = getattr(delta, name)
        into = out[name]
        into["count"] += timing.count
        into["total"] += timing.total
        into["squares"] += timing.squares
        histogram = list(into["histogram"]) + [0] * (BUCKETS - len(into["histogram"]))
        for bucket, count in timing.histogram.items():
            histogram[bucket] += count
        into["histogram"] = histogram
    return out


def summary(stored: dict[str, Any]) -> dict[str, Any]:
    """What a reader wants: per timing the count, mean, standard deviation and histogram."""
    out: dict[str, Any] = {"failures": stored["failures"], "retries": stored["retries"]}
    for name in TIMINGS:
        timing = stored[name]
        count = timing["count"]
        mean = timing["total"] / count if count else 0.0
        variance = max(0.0, timing["squares"] / count - mean * mean) if count else 0.0
        out[name] = {
            "count": count,
            "mean": mean,
            "std": math.sqrt(variance),
            "histogram": list(timing["histogram"]),
        }
    return out


def without_histograms(stored: dict[str, Any]) -> dict[str, Any]:
    """The statistics with their histograms emptied (kept for fewer days than the sums)."""
    out = merge(stored, StatsDelta(queue="", day=0.0))
    for name in TIMINGS:
        out[name]["histogram"] = [0] * BUCKETS
    return out
