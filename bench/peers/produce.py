"""The producer: one process that enqueues a workload's jobs into one system and says how
fast, as one JSON line on stdout.

    python produce.py MODULE MODE N [--interval S] [--seconds S]

MODE: ``prepare`` (only what the library needs before its workers start: a schema),
``one`` (N no-op jobs, one call each, timed), ``bulk`` (the same in the library's bulk
call, 500 a call, timed), ``fill`` (bulk where there is one, untimed: W2's queue), ``stream``
(N latency jobs ``--interval`` apart, each carrying its enqueue time), ``sleep`` and
``progress`` (N jobs of ``--seconds``). Run by the runner with the run's environment; a system
that can't run here answers ``{"unavailable": "..."}``.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from peer import Producer, Unavailable
from sidechannel import Job

BATCH = 500  # jobs per bulk call, as bench/drain.py does for zerog.


def put_bulk(producer: Producer, jobs: list[Job]) -> None:
    for start in range(0, len(jobs), BATCH):
        producer.bulk(jobs[start : start + BATCH])


def put_any(producer: Producer, jobs: list[Job]) -> None:
    """In bulk where the library can, else one by one."""
    try:
        put_bulk(producer, jobs)
    except NotImplementedError:
        for job in jobs:
            producer.one(job)


def stream(producer: Producer, n: int, interval: float) -> float:
    """Jobs ``interval`` apart on a fixed schedule (a slow enqueue does not shift the rest)."""
    first = time.time()
    for k in range(n):
        delay = first + k * interval - time.time()
        if delay > 0:
            time.sleep(delay)
        producer.one(Job("latency", enqueued=time.time()))
    return first


def run(producer: Producer, mode: str, n: int, args: argparse.Namespace) -> dict[str, float]:
    if mode == "prepare":  # making the producer made the schema (procrastinate, pgqueuer).
        return {}
    noops = [Job("noop") for _ in range(n)]
    start = time.perf_counter()
    if mode == "one":
        for job in noops:
            producer.one(job)
        return {"rate": n / (time.perf_counter() - start)}
    if mode == "bulk":
        put_bulk(producer, noops)
        return {"rate": n / (time.perf_counter() - start)}
    if mode == "fill":
        put_any(producer, noops)
        return {}
    if mode == "stream":
        return {"first": stream(producer, n, args.interval)}
    first = time.time()
    kind = "sleep" if mode == "sleep" else "progress"
    jobs = [Job(kind, seconds=args.seconds) for _ in range(n)]
    if mode == "sleep":
        for job in jobs:
            producer.one(job)
    else:
        put_any(producer, jobs)
    return {"first": first}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("module")
    parser.add_argument(
        "mode", choices=("prepare", "one", "bulk", "fill", "stream", "sleep", "progress")
    )
    parser.add_argument("n", type=int)
    parser.add_argument("--interval", type=float, default=0.02)
    parser.add_argument("--seconds", type=float, default=2.0)
    args = parser.parse_args()
    try:
        producer: Producer = importlib.import_module(f"systems.{args.module}").Producer()
    except Unavailable as exc:
        print(json.dumps({"unavailable": str(exc).splitlines()[0]}))
        return 0
    try:
        result = run(producer, args.mode, args.n, args)
    except NotImplementedError as exc:
        result = {"unsupported": str(exc)}  # type: ignore[dict-item]
    finally:
        producer.close()
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
