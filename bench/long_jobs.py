"""Long jobs in parallel: 50 jobs that each sleep 2 s, on 2 worker processes x 25 threads.

    python bench/long_jobs.py [--url sqlite:///build/bench/long_jobs.db] [--runs 5]
                              [--jobs 50] [--seconds 2] [--workers 2] [--threads 25]

With 50 slots for 50 jobs, the ideal is that they all run at once: the last one finishes 2 s
after the first one started. Each run puts the jobs on a fresh database, starts
``zerog worker --burst`` and reads the jobs' own start and finish times from the store. It
prints, as medians of the runs:

- **makespan**: first job started → last job finished (ideal: the job's 2 s), and its ratio
  to the ideal (the claim: within 1.1x);
- **from launch**: the ``zerog worker`` command started → last job finished (adds the start
  of the processes);
- **wall**: the command started → it exited (adds the burst's exit).

It is a measurement, not a test: nothing fails when the numbers are high.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path
from typing import Any

from marshmallow import fields

from zerog import BaseJob, BaseJobSchema
from zerog.record import JobSpec
from zerog.store import Store

BENCH_DIR = Path(__file__).resolve().parent
LONG_TYPE = "bench_sleep"
LONG_QUEUE = "long"
TIMEOUT_SECONDS = 300.0


class SleepSchema(BaseJobSchema):
    seconds = fields.Float(load_default=2.0)


class SleepJob(BaseJob):
    """Sleeps: a job waiting on I/O, as most long jobs do."""

    JOB_TYPE = LONG_TYPE
    QUEUE_NAME = LONG_QUEUE
    SCHEMA = SleepSchema

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.seconds = kwargs.get("seconds", 2.0)

    def run(self) -> tuple[float, bool]:
        time.sleep(self.seconds)
        return time.time(), False


def sqlite_file(url: str) -> Path:
    """The file of a ``sqlite:///`` URL (removed before each run)."""
    if not url.startswith("sqlite:///"):
        raise SystemExit(f"long_jobs.py runs on SQLite: give a sqlite:/// URL, not {url!r}")
    return Path(url.removeprefix("sqlite:///"))


def fresh(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm", "-journal", "-writer"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def worker_command(url: str, workers: int, threads: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "zerog",
        "worker",
        "--burst",
        "--url",
        url,
        "-q",
        LONG_QUEUE,
        "--workers",
        str(workers),
        "--threads",
        str(threads),
        "--path",
        str(BENCH_DIR),
        "--import",
        "long_jobs",
    ]


def one_run(args: argparse.Namespace) -> dict[str, float]:
    """Put the jobs, run the pool until it exits; the three durations, in seconds."""
    fresh(sqlite_file(args.url))
    with closing(Store.from_url(args.url)) as store:
        spec = JobSpec(type=LONG_TYPE, queue=LONG_QUEUE, values={"seconds": args.seconds})
        store.enqueue_many([spec] * args.jobs)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZEROG_")}
    launched = time.time()
    done = subprocess.run(
        worker_command(args.url, args.workers, args.threads),
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_SECONDS,
        check=False,
    )
    exited = time.time()
    if done.returncode != 0:
        raise SystemExit(f"the pool failed ({done.returncode}): {done.stderr[-2000:]}")
    with closing(Store.from_url(args.url)) as store:
        records = store.list(queue=LONG_QUEUE, limit=500).records
    if len(records) != args.jobs or {r["state"] for r in records} != {"complete"}:
        raise SystemExit("not every job completed")
    first = min(r["started_at"] for r in records)
    last = max(r["finished_at"] for r in records)
    return {"makespan": last - first, "from launch": last - launched, "wall": exited - launched}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="sqlite:///build/bench/long_jobs.db")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--jobs", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=25)
    args = parser.parse_args(argv)
    runs = []
    for number in range(1, args.runs + 1):
        runs.append(one_run(args))
        print(f"run {number}: " + ", ".join(f"{k} {v:.3f} s" for k, v in runs[-1].items()))
    medians = {name: statistics.median(r[name] for r in runs) for name in runs[0]}
    slots = args.workers * args.threads
    print(
        f"\nmedians of {args.runs} run(s): {args.jobs} jobs of {args.seconds:g} s on "
        f"{args.workers} workers x {args.threads} threads ({slots} slots)"
    )
    for name, seconds in medians.items():
        print(f"  {name:<12} {seconds:7.3f} s   {seconds / args.seconds:5.3f} x ideal")
    return 0


if __name__ == "__main__":
    sys.exit(main())
