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
import os
import subprocess
import sys
import tempfile
import time
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import drain
import drain_postgres
from bench_jobs import BENCH_QUEUE
from zerog.backends.postgres._sql import PQ
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


def produce(url: str, rate: float, seconds: float) -> tuple[int, list[Minute]]:
    """Enqueue ``rate`` jobs a second for ``seconds``; returns how many were put and each whole
    minute's figures (see :class:`Minute`)."""
    from zerog.store import Store

    put, start, marks = 0, time.monotonic(), [(0, 0)]
    minutes: list[Minute] = []
    probe, schema = drain_postgres._connect(url)
    with closing(Store.from_url(url)) as store, probe:
        while (elapsed := time.monotonic() - start) < seconds:
            due = int(rate * elapsed) - put
            if due > 0:
                store.enqueue_many(drain.spec() for _ in range(due))
                put += due
            if elapsed >= 60 * len(marks) or elapsed + TICK >= seconds:
                minutes.append(_minute(probe, schema, put, marks))
                print(f"  minute {len(minutes)}: {minutes[-1]}", flush=True)
            time.sleep(max(0.0, TICK - (time.monotonic() - start - elapsed)))
    return put, minutes


@dataclass
class Minute:
    """One minute: the jobs claimed in it (put minus the backlog, read at its end: workers
    prune finished jobs, so rows cannot be counted afterwards), the buffers one claim reads
    at its end (EXPLAIN ANALYZE of the claim statement, rolled back: what bloat would raise,
    whatever the machine's load) and the machine's load average then."""

    claimed: int
    buffers: int
    load: float

    def __str__(self) -> str:
        return (
            f"{self.claimed:>8,} claimed ({self.claimed / 60:,.0f}/s), "
            f"{self.buffers} buffers a claim, load average {self.load:.1f}"
        )


def _minute(probe: Any, schema: str, put: int, marks: list[tuple[int, int]]) -> Minute:
    count = f"SELECT count(*) FROM \"{schema}\".jobs WHERE state IN ('waiting', 'scheduled')"
    row = probe.execute(count).fetchone()
    claimed = put - int(row[0] if row else 0)
    marks.append((put, claimed))
    with probe.transaction(force_rollback=True):
        probe.execute(f'SET LOCAL search_path = "{schema}"')
        params = {"queue": BENCH_QUEUE, "now": time.time(), "limit": 1}
        plan = probe.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + PQ.next_ready, params)
        top = plan.fetchone()[0][0]["Plan"]
    buffers = int(top.get("Shared Hit Blocks", 0)) + int(top.get("Shared Read Blocks", 0))
    return Minute(claimed - marks[-2][1], buffers, os.getloadavg()[0])


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
    whole = [m.claimed for m in minutes[: int(args.minutes)]]  # a last part minute left out.
    print(f"{put:,} jobs put at {args.rate:g}/s for {args.minutes:g} min, {args.workers} worker(s)")
    print(f"x {args.threads} thread(s), {parse_url(args.url).masked}")
    for number, minute in enumerate(minutes, 1):
        print(f"  minute {number}: {minute}")
    if len(whole) >= 2:
        print(f"  last / first minute's claims: {whole[-1] / whole[0]:.2f}")
    drain.reset(args.url)
    return 0


if __name__ == "__main__":
    sys.exit(main())
