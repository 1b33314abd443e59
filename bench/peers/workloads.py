"""The five workloads, the same for every system: each takes fresh sessions and returns its
numbers, with the load other processes put on the machine while it measured.

W1 enqueue rate (one by one, and bulk), W2 drain rate and CPU per job, W3 enqueue-to-start
latency into idle workers, W4 the makespan of 50 two-second jobs on 2 x 25, W5 the CPU that
1,000 running jobs reporting progress every second cost the store and the workers.
"""

from __future__ import annotations

import contextlib
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cpu import Usage
from session import Session
from sidechannel import samples

Fresh = Callable[[], contextlib.AbstractContextManager[Session]]


@dataclass(frozen=True)
class Sizes:
    """The workloads' sizes (the issue's by default; smaller for a quick look)."""

    jobs: int = 10_000  # W1, W2.
    latency_jobs: int = 200  # W3.
    latency_interval: float = 0.02
    long_jobs: int = 50  # W4.
    long_seconds: float = 2.0
    long_concurrency: int = 25
    progress_jobs: int = 1_000  # W5.
    progress_seconds: float = 30.0
    progress_window: float = 15.0
    progress_concurrency: int = 500


@dataclass
class Result:
    metrics: dict[str, float] = field(default_factory=dict)
    other_cores: float = 0.0  # the most any of its measuring windows saw.
    notes: list[str] = field(default_factory=list)

    def other(self, usage: Usage) -> None:
        self.other_cores = max(self.other_cores, usage.other_cores)


def store_seconds(usage: Usage) -> float:
    return usage.groups.get("store", 0.0) + usage.groups.get("store_pg", 0.0)


def w1(fresh: Fresh, sizes: Sizes) -> Result:
    """One producer enqueues N no-op jobs one by one, then (on a fresh store) in bulk."""
    result = Result()
    for mode in ("one", "bulk"):
        with fresh() as session:
            meter = session.meter()
            start = meter.read()
            answer = session.produce(mode, sizes.jobs)
            result.other(meter.usage(start, meter.read()))
        if "rate" in answer:
            result.metrics[f"w1_{mode}"] = answer["rate"]
        else:
            result.notes.append(f"bulk: n/a ({answer.get('unsupported', '?')})")
    return result


def w2(fresh: Fresh, sizes: Sizes) -> Result:
    """2 worker processes drain N queued no-op jobs; counted in the side-channel file."""
    result = Result()
    with fresh() as session:
        session.produce("fill", sizes.jobs)
        meter = session.meter()
        started = session.start_workers()
        first = session.wait_done(1, timeout=300, poll=0.001)
        first_reading, at_first = meter.read(), session.counted()
        last = session.wait_done(sizes.jobs, timeout=1800, poll=0.002, meter=meter)
        usage = meter.usage(first_reading, meter.read())
        time.sleep(0.5)  # a duplicate run would show up as one mark too many.
        counted = session.counted()
    if counted != sizes.jobs:
        raise RuntimeError(f"{counted} completions counted for {sizes.jobs} jobs")
    per_job = 1e6 / max(1, sizes.jobs - at_first)
    result.metrics.update(
        w2_rate=sizes.jobs / (last - started),
        w2_steady=(sizes.jobs - at_first) / (last - first),
        w2_cpu_us=(usage.groups["workers"] + store_seconds(usage)) * per_job,
        w2_store_us=store_seconds(usage) * per_job,
    )
    result.other(usage)
    return result


def w3(fresh: Fresh, sizes: Sizes) -> Result:
    """Jobs ``latency_interval`` apart into idle workers; each records start - enqueue."""
    result = Result()
    with fresh() as session:
        session.start_workers()
        session.warm_up()
        meter = session.meter()
        start = meter.read()
        session.produce("stream", sizes.latency_jobs, interval=sizes.latency_interval)
        deadline = time.monotonic() + 120
        while len(samples(session.lines)) < sizes.latency_jobs:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{len(samples(session.lines))} latency samples after 120 s")
            session.check_workers()
            time.sleep(0.02)
        result.other(meter.usage(start, meter.read()))
        latencies = sorted(samples(session.lines))
    cuts = statistics.quantiles(latencies, n=100, method="inclusive")
    result.metrics.update(w3_p50=cuts[49] * 1000, w3_p99=cuts[98] * 1000)
    return result


def w4(fresh: Fresh, sizes: Sizes) -> Result:
    """50 jobs of 2 s on 2 processes x 25: first enqueue to last completion."""
    result = Result()
    with fresh() as session:
        session.start_workers(sizes.long_concurrency)
        session.warm_up()
        meter = session.meter()
        start = meter.read()
        answer = session.produce("sleep", sizes.long_jobs, seconds=sizes.long_seconds)
        session.wait_done(sizes.long_jobs, timeout=300, poll=0.002)
        finished = time.time()
        result.other(meter.usage(start, meter.read()))
    makespan = finished - answer["first"]
    result.metrics.update(w4_makespan=makespan, w4_ratio=makespan / sizes.long_seconds)
    return result


def w5(fresh: Fresh, sizes: Sizes) -> Result:
    """1,000 running jobs reporting progress at 1 Hz: CPU of the store and of the workers."""
    result = Result()
    with fresh() as session:
        session.start_workers(sizes.progress_concurrency)
        session.warm_up()
        answer = session.produce("progress", sizes.progress_jobs, seconds=sizes.progress_seconds)
        running = wait_running(session, sizes.progress_jobs)
        window = min(
            sizes.progress_window, answer["first"] + sizes.progress_seconds - 1 - time.time()
        )
        if window < 5:
            raise RuntimeError(f"W5: {running} jobs running, too late to measure ({window:.0f} s)")
        if running < sizes.progress_jobs or window < sizes.progress_window:
            result.notes.append(f"{running} jobs running, {window:.0f} s window")
        meter = session.meter()
        start = meter.read()
        end_at = time.monotonic() + max(window, 1.0)
        while time.monotonic() < end_at:
            time.sleep(0.25)
            meter.sample()
        usage = meter.usage(start, meter.read())
        session.stop_workers(hard=True)  # no need to wait out the jobs.
    result.other(usage)
    result.metrics.update(
        w5_store_pct=100 * store_seconds(usage) / usage.wall,
        w5_workers_pct=100 * usage.groups["workers"] / usage.wall,
        w5_running=float(running),
    )
    return result


def wait_running(session: Session, n: int, settle: float = 3.0, limit: float = 60.0) -> int:
    """Until ``n`` progress jobs are running, or their number has not grown for ``settle``
    seconds (a system that holds some back, as Celery's prefetch can, never gets to ``n``)."""
    deadline = time.monotonic() + limit
    seen, since = -1, time.monotonic()
    while time.monotonic() < deadline:
        running = session.counted(session.started) - session.counted()
        if running >= n:
            return running
        if running != seen:
            seen, since = running, time.monotonic()
        elif running > 0 and time.monotonic() - since > settle:
            return running
        session.check_workers()
        time.sleep(0.1)
    return session.counted(session.started) - session.counted()


WORKLOADS: dict[str, Callable[[Fresh, Sizes], Result]] = {
    "W1": w1,
    "W2": w2,
    "W3": w3,
    "W4": w4,
    "W5": w5,
}


def describe(result: Result) -> dict[str, Any]:
    return {"metrics": result.metrics, "other_cores": result.other_cores, "notes": result.notes}
