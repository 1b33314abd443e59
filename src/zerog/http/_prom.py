"""The Prometheus text exposition format (version 0.0.4), written by hand: a few families of
gauges, counters and histograms do not need a client library."""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Mapping, Sequence

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

DURATION_BUCKETS = (
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0,
    600.0, 1800.0, 3600.0, 7200.0, 21600.0, 86400.0,
)  # fmt: skip
"""Upper bounds in seconds: from a fast request to a day-long job (zerog's jobs are long)."""

Labels = Mapping[str, str]


def escape(value: str) -> str:
    """A label value as the format wants it: backslash, double quote and newline escaped."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def number(value: float) -> str:
    """A sample value: integers without a decimal point, infinities as +Inf/-Inf."""
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(float(value))


def sample(name: str, value: float, labels: Labels | None = None) -> str:
    """One line: ``name{a="x"} 1``."""
    if labels:
        inner = ",".join(f'{key}="{escape(str(val))}"' for key, val in labels.items())
        return f"{name}{{{inner}}} {number(value)}"
    return f"{name} {number(value)}"


def family(
    name: str, kind: str, help_text: str, samples: Iterable[tuple[float, Labels | None]]
) -> list[str]:
    """A metric family: its HELP and TYPE lines, then its samples."""
    lines = [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"]
    lines.extend(sample(name, value, labels) for value, labels in samples)
    return lines


class Histogram:
    """Cumulative bucket counts, a sum and a count, for one set of labels."""

    def __init__(self, buckets: Sequence[float] = DURATION_BUCKETS) -> None:
        self.buckets = tuple(buckets)
        self.counts = [0] * len(self.buckets)
        self.total = 0.0
        self.count = 0

    def observe(self, value: float) -> None:
        """Count one observation (negative values, from clock skew, count as zero)."""
        value = max(0.0, value)
        index = bisect.bisect_left(self.buckets, value)
        if index < len(self.counts):
            self.counts[index] += 1
        self.total += value
        self.count += 1

    def lines(self, name: str, labels: Labels | None = None) -> list[str]:
        """The ``_bucket`` (cumulative, ending with ``+Inf``), ``_sum`` and ``_count`` lines."""
        base = dict(labels or {})
        out = []
        running = 0
        for bound, count in zip(self.buckets, self.counts, strict=True):
            running += count
            out.append(sample(f"{name}_bucket", running, {**base, "le": number(bound)}))
        out.append(sample(f"{name}_bucket", self.count, {**base, "le": "+Inf"}))
        out.append(sample(f"{name}_sum", self.total, base))
        out.append(sample(f"{name}_count", self.count, base))
        return out


def histogram_family(
    name: str, help_text: str, histograms: Mapping[tuple[tuple[str, str], ...], Histogram]
) -> list[str]:
    """A histogram family; each key is the sorted label pairs of one histogram."""
    lines = [f"# HELP {name} {help_text}", f"# TYPE {name} histogram"]
    for key, histogram in sorted(histograms.items()):
        lines.extend(histogram.lines(name, dict(key)))
    return lines
