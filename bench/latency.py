"""How soon an idle worker starts a job put by another process (enqueue to start).

    python bench/latency.py --url URL [--jobs 500] [--gap-ms 10]

One worker process (``zerog worker``, one thread) waits on the store; this process puts
``--jobs`` no-op jobs one at a time, ``--gap-ms`` apart (so that the worker is idle, waiting,
when each comes), then reads each job's ``started_at - created_at``: both are stamped by the
store's clock (the server's, on Redis and PostgreSQL), so no two clocks are compared. Prints
the median, 90th and 99th percentiles and the maximum, in milliseconds. The URL's store is
emptied first (as bench/drain.py does).
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import closing
from pathlib import Path

from zerog.record import JobSpec
from zerog.store import Store

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

import drain  # noqa: E402 - found through BENCH_DIR.
from bench_jobs import BENCH_QUEUE, BENCH_TYPE  # noqa: E402

START_TIMEOUT_SECONDS = 60.0


def start_worker(url: str) -> subprocess.Popen[bytes]:
    """One worker process on the bench queue, not in burst mode (it waits for work)."""
    command = [
        sys.executable, "-m", "zerog", "worker", "--workers", "1", "--url", url,
        "-q", BENCH_QUEUE, "--import", "bench_jobs", "--path", str(BENCH_DIR),
    ]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZEROG_")}
    # Its log (a line per job) goes to a file: a pipe read only at the end would fill and
    # stall the worker.
    log = tempfile.TemporaryFile()  # noqa: SIM115 - read and dropped with the worker.
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=log)


def _log_of(worker: subprocess.Popen[bytes]) -> str:
    """What a worker started by :func:`start_worker` logged."""
    log = worker.stderr
    if log is None:
        return ""
    log.seek(0)
    return log.read().decode(errors="replace")


def wait_for(condition: object, what: str, timeout: float = START_TIMEOUT_SECONDS) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise SystemExit(f"{what} did not happen in {timeout:g} s")
        time.sleep(0.05)


def measure(url: str, jobs: int, gap: float) -> list[float]:
    """Seconds from put to start, per job."""
    drain.reset(url)
    worker = start_worker(url)
    try:
        with closing(Store.from_url(url)) as store:
            wait_for(lambda: store.workers(), "a worker registering")
            warm = store.enqueue(JobSpec(type=BENCH_TYPE, queue=BENCH_QUEUE))
            wait_for(lambda: store.get(warm, history=False)["state"] == "complete", "a first job")
            uuids = []
            for _ in range(jobs):
                time.sleep(gap)
                uuids.append(store.enqueue(JobSpec(type=BENCH_TYPE, queue=BENCH_QUEUE)))
            done = lambda: store.counts()[BENCH_QUEUE].get("complete", 0) == jobs + 1  # noqa: E731
            wait_for(done, "every job completing", 300.0)
            records = [store.get(uuid, history=False) for uuid in uuids]
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=60)
    if worker.returncode not in (0, -signal.SIGTERM):
        raise SystemExit(f"the worker failed ({worker.returncode}): {_log_of(worker)[-2000:]}")
    drain.reset(url)
    return [r["started_at"] - r["created_at"] for r in records]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--jobs", type=int, default=500)
    parser.add_argument("--gap-ms", type=float, default=10.0)
    args = parser.parse_args(argv)
    latencies = sorted(measure(args.url, args.jobs, args.gap_ms / 1000.0))
    cuts = statistics.quantiles(latencies, n=100)
    print(
        f"enqueue -> start, {args.jobs} jobs {args.gap_ms:g} ms apart, one idle worker: "
        f"p50 {cuts[49] * 1000:.2f} ms, p90 {cuts[89] * 1000:.2f} ms, "
        f"p99 {cuts[98] * 1000:.2f} ms, max {latencies[-1] * 1000:.2f} ms"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
