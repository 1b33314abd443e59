"""Does PostgreSQL's claim rate hold up in a long run (no bloat, issue 16 #5)?

    python bench/pg_steady.py --url 'postgresql://USER@HOST:5432/DB?schema=NAME' \\
                              [--minutes 5] [--rate 600] [--workers 2] [--threads 4]

The URL's schema is dropped first. A producer (this process) enqueues no-op jobs at a steady
``--rate`` per second (``enqueue_many`` every 0.1 s) for ``--minutes``, while ``--workers``
worker processes (``zerog worker``, ``--threads`` each) claim and run them. Pick a rate at or
above what the workers can claim, so the workers never idle and the claim rate is what the
store allows: finished rows pile up all run long, which is what bloat would slow.
The claims of each minute are the jobs put minus the backlog (read at each minute's end);
the last minute's over the first minute's is printed (issue 16 asks >= 0.80). It is a
measurement, not a test.
"""

from __future__ import annotations

import argparse
import itertools
import os
import subprocess
import sys
import tempfile
import time
from contextlib import closing
from pathlib import Path

import drain
import drain_postgres
from bench_jobs import BENCH_QUEUE
from zerog.urls import parse_url

BENCH_DIR = Path(__file__).resolve().parent
TICK = 0.1  # seconds between two enqueue_many calls.


def start_workers(url: str, workers: int, threads: int) -> list[subprocess.Popen[bytes]]:
    """``workers`` long-running worker processes on the bench queue, logs to temp files."""
    command = [sys.executable, "-m", "zerog", "worker", "--workers", "1", "--url", url]
    command += ["-q", BENCH_QUEUE, "--import", "bench_jobs", "--path", str(BENCH_DIR)]
    command += ["--threads", str(threads)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZEROG_")}
    logs = Path(tempfile.mkdtemp(prefix="pg_steady-"))
    print(f"worker logs in {logs}", flush=True)
    return [
        subprocess.Popen(
            command,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=(logs / f"worker-{n}.log").open("wb"),
        )
        for n in range(workers)
    ]


def produce(url: str, rate: float, seconds: float) -> tuple[int, list[int]]:
    """Enqueue ``rate`` jobs a second for ``seconds``; returns how many were put and how many
    were claimed in each whole minute: put minus the backlog, read at each minute's end (the
    workers prune finished jobs, so the rows themselves cannot be counted afterwards)."""
    from zerog.store import Store

    put, start, claimed = 0, time.monotonic(), [0]
    backlog, schema = drain_postgres._connect(url)
    count = f"SELECT count(*) FROM \"{schema}\".jobs WHERE state IN ('waiting', 'scheduled')"
    with closing(Store.from_url(url)) as store, backlog:
        while (elapsed := time.monotonic() - start) < seconds:
            due = int(rate * elapsed) - put
            if due > 0:
                store.enqueue_many(drain.spec() for _ in range(due))
                put += due
            if elapsed >= 60 * len(claimed):
                row = backlog.execute(count).fetchone()
                claimed.append(put - int(row[0] if row else 0))
                print(f"  minute {len(claimed) - 1}: {claimed[-1] - claimed[-2]:>8,} claimed")
            time.sleep(max(0.0, TICK - (time.monotonic() - start - elapsed)))
    return put, [b - a for a, b in itertools.pairwise(claimed)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True, help="postgresql://... (the schema is dropped)")
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--rate", type=float, default=600.0, help="jobs enqueued per second")
    parser.add_argument("--workers", type=int, default=2, help="worker processes")
    parser.add_argument("--threads", type=int, default=4, help="threads per worker process")
    args = parser.parse_args(argv)
    if parse_url(args.url).scheme != "postgresql":
        raise SystemExit("pg_steady.py measures PostgreSQL: give a postgresql:// URL")
    drain.reset(args.url)
    drain.enqueue_batches(args.url, 0)  # creates the schema before the workers start.
    processes = start_workers(args.url, args.workers, args.threads)
    try:
        put, minutes = produce(args.url, args.rate, args.minutes * 60)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(60)
    whole = minutes[: int(args.minutes)]
    print(f"{put:,} jobs put at {args.rate:g}/s for {args.minutes:g} min, {args.workers} worker(s)")
    print(f"x {args.threads} thread(s), {parse_url(args.url).masked}")
    for number, count in enumerate(whole, 1):
        print(f"  minute {number}: {count:>8,} claimed ({count / 60:,.0f}/s)")
    if len(whole) >= 2:
        print(f"  last / first minute: {whole[-1] / whole[0]:.2f}")
    drain.reset(args.url)
    return 0


if __name__ == "__main__":
    sys.exit(main())
