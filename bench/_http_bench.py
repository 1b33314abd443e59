"""What ``bench/http_load.py`` measures, against a real ``zerog serve`` process on a SQLite file.

1. The store is filled to ``--jobs`` jobs (default 1,000,000) with ``Store.enqueue_many`` in
   batches, once: a later run on the same file reuses them (and tops them up if need be).
   They are no-op jobs spread over four queues, every hundredth tagged; no worker runs, so they
   stay waiting, and the enqueue phase adds to them.
2. Enqueue: ``--enqueue`` jobs posted to ``POST /api/jobs/bench_noop`` by ``--concurrency``
   concurrent connections (tornado's AsyncHTTPClient, one connection per request, as it does
   not keep connections alive); throughput in jobs/s and the POST latencies.
3. Reads, one at a time (the latency of a request, not of a queue of them): ``--reads`` ``GET
   /api/jobs/{uuid}`` of uuids drawn at random from the whole store; ``GET /api/jobs`` first
   pages (no filter, by state, by queue, by tag) and deep pages (a random cursor); a few
   ``GET /api/queues`` and ``GET /metrics``, which count every job.

The client runs in this process, the server in its own, on the same machine: both share its
cores, so the numbers are a floor for a server with a machine of its own. Each phase is run
``--runs`` times; the medians over the runs are printed last.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import socket
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest

from bench_jobs import BENCH_TYPE
from zerog.record import JobSpec
from zerog.store import Store
from zerog.urls import parse_url

BENCH_DIR = Path(__file__).resolve().parent
QUEUES = ("bench", "bench-b", "bench-c", "bench-d")
FILL_BATCH = 10_000  # jobs per enqueue_many call while filling.
TAG_EVERY = 100  # one job in this many is tagged "sampled".
START_TIMEOUT_SECONDS = 60.0

Row = dict[str, float]


def sqlite_path(url: str) -> Path:
    """The file of a ``sqlite:///relative.db`` or ``sqlite:////absolute.db`` URL."""
    parsed = parse_url(url)
    if parsed.scheme != "sqlite":
        raise SystemExit(f"http.py measures SQLite: give a sqlite:/// URL, not {url!r}")
    return Path(parsed.path[1:])


def fill(url: str, jobs: int) -> int:
    """Top the store up to ``jobs`` jobs; returns how many it holds."""
    sqlite_path(url).parent.mkdir(parents=True, exist_ok=True)
    with closing(Store.from_url(url)) as store:
        held = sum(sum(per.values()) for per in store.counts().values())
        started, added = time.perf_counter(), 0
        while held + added < jobs:
            size = min(FILL_BATCH, jobs - held - added)
            store.enqueue_many(_spec(held + added + k) for k in range(size))
            added += size
            if added % 100_000 < FILL_BATCH:
                rate = added / (time.perf_counter() - started)
                print(f"  filled {held + added:,} jobs ({rate:,.0f} jobs/s)", flush=True)
        return held + added


def _spec(n: int) -> JobSpec:
    tags = ("sampled",) if n % TAG_EVERY == 0 else ()
    return JobSpec(type=BENCH_TYPE, queue=QUEUES[n % len(QUEUES)], values={"n": n}, tags=tags)


def sample(url: str, count: int) -> tuple[list[str], list[int]]:
    """Random job uuids and seqs (cursors) from the whole file, read with sqlite3 directly."""
    with closing(sqlite3.connect(sqlite_path(url))) as conn:
        (top,) = conn.execute("SELECT max(seq) FROM jobs").fetchone()
        seqs = [random.randint(1, top) for _ in range(count)]
        uuids = [
            row[0]
            for seq in seqs
            for row in conn.execute("SELECT uuid FROM jobs WHERE seq = ?", (seq,))
        ]
    return uuids, seqs


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def server(url: str, log: Path) -> Iterator[str]:
    """``zerog serve`` on ``url`` (no workers), until the block ends."""
    port = free_port()
    command = [sys.executable, "-m", "zerog", "serve", "--url", url, "--port", str(port)]
    command += ["--path", str(BENCH_DIR), "--import", "bench_jobs"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZEROG_")}
    with log.open("w") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=out)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_up(base, process)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=60)


def _wait_up(base: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", int(base.rsplit(":", 1)[1])), 1):
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("the server did not start")


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(1, math.ceil(fraction * len(ordered))) - 1]


async def enqueue(base: str, count: int, concurrency: int) -> Row:
    """POST ``count`` jobs with ``concurrency`` requests in flight."""
    client = AsyncHTTPClient(force_instance=True, max_clients=concurrency)
    latencies: list[float] = []
    left = iter(range(count))

    async def one_connection() -> None:
        for _ in left:
            request = HTTPRequest(f"{base}/api/jobs/{BENCH_TYPE}", method="POST", body="{}")
            started = time.perf_counter()
            response = await client.fetch(request)
            latencies.append(time.perf_counter() - started)
            assert response.code == 201, response.code

    started = time.perf_counter()
    await asyncio.gather(*(one_connection() for _ in range(concurrency)))
    took = time.perf_counter() - started
    client.close()
    return {
        "jobs/s": count / took,
        "p50 ms": percentile(latencies, 0.5) * 1000,
        "p99 ms": percentile(latencies, 0.99) * 1000,
    }


async def latencies(base: str, paths: list[str]) -> Row:
    """GET each path in turn; p50/p95/p99 in milliseconds."""
    client = AsyncHTTPClient(force_instance=True, max_clients=1)
    times = []
    for path in paths:
        started = time.perf_counter()
        try:
            response = await client.fetch(base + path)
        except HTTPClientError as exc:
            raise SystemExit(f"GET {path}: {exc}") from None
        times.append(time.perf_counter() - started)
        if path.startswith("/api/"):
            json.loads(response.body)  # a whole, valid answer, not just a status line.
    client.close()
    return {
        "p50 ms": percentile(times, 0.5) * 1000,
        "p95 ms": percentile(times, 0.95) * 1000,
        "p99 ms": percentile(times, 0.99) * 1000,
    }


def read_paths(uuids: list[str], seqs: list[int], reads: int) -> dict[str, list[str]]:
    """The request paths of each read phase."""
    few = max(5, reads // 100)
    return {
        "GET /api/jobs/{uuid}": [f"/api/jobs/{u}" for u in uuids[:reads]],
        "GET /api/jobs (first page)": ["/api/jobs"] * reads,
        "GET /api/jobs?state=waiting": ["/api/jobs?state=waiting"] * reads,
        "GET /api/jobs?queue=bench-c": ["/api/jobs?queue=bench-c"] * reads,
        "GET /api/jobs?tag=sampled": ["/api/jobs?tag=sampled"] * reads,
        "GET /api/jobs?cursor=<random>": [f"/api/jobs?cursor={s}" for s in seqs[:reads]],
        "GET /api/queues (counts all)": ["/api/queues"] * few,
        "GET /metrics (counts all)": ["/metrics"] * few,
    }


def one_run(base: str, args: argparse.Namespace) -> dict[str, Row]:
    """Every phase once."""
    results = {
        f"POST /api/jobs/{{type}} x{args.concurrency}": asyncio.run(
            enqueue(base, args.enqueue, args.concurrency)
        )
    }
    uuids, seqs = sample(args.url, args.reads)
    for name, paths in read_paths(uuids, seqs, args.reads).items():
        results[name] = asyncio.run(latencies(base, paths))
    return results


def show(title: str, results: dict[str, Row]) -> None:
    print(title)
    for name, row in results.items():
        cells = "  ".join(f"{key} {value:>9,.1f}" for key, value in row.items())
        print(f"  {name:<34} {cells}")


def medians(runs: list[dict[str, Row]]) -> dict[str, Row]:
    """The median of each number over the runs."""
    return {
        name: {key: statistics.median(run[name][key] for run in runs) for key in runs[0][name]}
        for name in runs[0]
    }


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="sqlite:///build/bench/http.db")
    parser.add_argument("--jobs", type=int, default=1_000_000, help="jobs stored before reads")
    parser.add_argument("--enqueue", type=int, default=20_000, help="jobs posted per run")
    parser.add_argument("--concurrency", type=int, default=64, help="requests in flight")
    parser.add_argument("--reads", type=int, default=2000, help="requests per read phase")
    parser.add_argument("--runs", type=int, default=3)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    print(f"filling {args.url} to {args.jobs:,} jobs...", flush=True)
    held = fill(args.url, args.jobs)
    log = sqlite_path(args.url).with_suffix(".server.log")
    runs: list[dict[str, Any]] = []
    with server(args.url, log) as base:
        for run in range(1, args.runs + 1):
            results = one_run(base, args)
            show(f"run {run} of {args.runs} ({held + run * args.enqueue:,} jobs stored)", results)
            runs.append(results)
    show(f"median of {args.runs} run(s)", medians(runs))
    return 0
