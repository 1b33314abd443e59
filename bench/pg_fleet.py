"""Does a fleet of workers a network hop from PostgreSQL drain faster than one worker?

    python bench/pg_fleet.py --url 'postgresql://USER@HOST:5432/DB?schema=NAME' \\
                             [--jobs 2000] [--runs 3] [--fleets 1,8] [--threads 1] [--delay-ms 1]

Each run, for each fleet size K: N no-op jobs are put straight into the URL's schema (dropped
first), then K burst worker processes (``zerog worker --burst``, ``--threads`` each) drain
them through ``pgproxy.py``, which adds ``--delay-ms`` each way, as for workers on other hosts.
The rate is from the first reservation to the last settlement (the processes' start-up left
out). It prints the median of the runs per fleet size and the ratio of the largest to the
smallest; issue 16 asks 8 processes for at least 3x one process through a 1 ms proxy.
It is a measurement, not a test: nothing fails when the numbers are low.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import drain
from zerog.urls import parse_url

BENCH_DIR = Path(__file__).resolve().parent


@contextlib.contextmanager
def proxy(url: str, delay_ms: float) -> Iterator[str]:
    """``url`` through a delaying proxy started for the block (a process of its own)."""
    parts = urlsplit(url)
    target = f"{parts.hostname or '127.0.0.1'}:{parts.port or 5432}"
    command = [sys.executable, str(BENCH_DIR / "pgproxy.py"), "--target", target, "--port", "0"]
    command += ["--delay-ms", str(delay_ms)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()  # "listening on HOST:PORT"
        if not line.startswith("listening on "):
            raise SystemExit(f"the proxy did not start: {line!r}")
        port = line.strip().rsplit(":", 1)[1]
        netloc = parts.netloc.rsplit("@", 1)
        user = f"{netloc[0]}@" if len(netloc) == 2 else ""
        yield urlunsplit(parts._replace(netloc=f"{user}127.0.0.1:{port}"))
    finally:
        process.terminate()
        process.wait(10)


def one_drain(url: str, jobs: int, workers: int, threads: int, delay_ms: float) -> float:
    """Jobs/s of ``workers`` processes draining ``jobs`` through the proxy."""
    drain.enqueue_batches(url, jobs)  # straight to the server: only the drain is measured.
    with proxy(url, delay_ms) as far:
        _wall, running = drain.drain(far, jobs, workers, threads)
    return running


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True, help="postgresql://... (the schema is dropped)")
    parser.add_argument("--jobs", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--fleets", default="1,8", help="worker process counts, comma-separated")
    parser.add_argument("--threads", type=int, default=1, help="threads per worker process")
    parser.add_argument("--delay-ms", type=float, default=1.0, help="the proxy's delay each way")
    args = parser.parse_args(argv)
    if parse_url(args.url).scheme != "postgresql":
        raise SystemExit("pg_fleet.py measures PostgreSQL: give a postgresql:// URL")
    fleets = [int(k) for k in args.fleets.split(",")]
    rates: dict[int, list[float]] = {k: [] for k in fleets}
    for number in range(1, args.runs + 1):
        for k in fleets:
            rates[k].append(one_drain(args.url, args.jobs, k, args.threads, args.delay_ms))
        line = ", ".join(f"{k} process(es) {rates[k][-1]:,.0f}/s" for k in fleets)
        print(f"run {number}: {line}", flush=True)
    drain.reset(args.url)
    medians = {k: statistics.median(v) for k, v in rates.items()}
    print(
        f"\nmedians of {args.runs} run(s), {args.jobs:,} no-op jobs, {args.threads} thread(s) "
        f"per process, {args.delay_ms:g} ms added each way, {parse_url(args.url).masked}"
    )
    for k, rate in medians.items():
        print(f"  {k:>3} worker process(es)  {rate:>10,.0f} jobs/s")
    small, large = min(fleets), max(fleets)
    print(f"  {large} / {small} processes: {medians[large] / medians[small]:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
