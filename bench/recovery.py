"""Recovery time: from the SIGKILL of a worker mid-job to the job running again.

    python bench/recovery.py [--url sqlite:///build/bench/recovery.db] [--runs 5] [--ttr 5]

Two ways a running job loses its worker, each measured ``--runs`` times on a fresh database
with one job that sleeps for minutes under a lease of ``--ttr`` seconds:

- **child killed**: a worker child is SIGKILLed, its supervisor lives. The supervisor reaps
  the child and puts its job back at once ("worker lost"): recovery does not wait for the
  lease to expire, only for an idle child's next poll (up to a second).
- **pool killed**: the whole pool (supervisor and children) is SIGKILLed, as when its machine
  dies; another pool is running. Nobody can tell the job is orphaned until its lease expires;
  the other supervisor rescues it (it looks every second) and a child reserves it (it polls
  every second when idle). The bound is the lease: TTR + 2 s.

Recovery is read from the store: the time of the kill to the time of the job's next
``reserved`` history entry. Medians and maxima are printed next to the TTR + 2 s bound. It is
a measurement, not a test.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import closing, suppress
from pathlib import Path
from typing import Any

from long_jobs import LONG_QUEUE, LONG_TYPE, fresh, sqlite_file
from zerog.record import JobSpec
from zerog.store import Store

BENCH_DIR = Path(__file__).resolve().parent
JOB_SECONDS = 600.0  # the job outlives the measurement.
SETTLE_SECONDS = 3.0  # idle workers back off to polling once a second within this long.


def start_pool(url: str, workers: int) -> subprocess.Popen[bytes]:
    """A pool in its own process group, so that it can be killed whole."""
    command = [
        sys.executable,
        "-m",
        "zerog",
        "worker",
        "--url",
        url,
        "-q",
        LONG_QUEUE,
        "--workers",
        str(workers),
        "--path",
        str(BENCH_DIR),
        "--import",
        "long_jobs",
        "--grace",
        "0",
    ]
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZEROG_")}
    return subprocess.Popen(
        command,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def stop(pool: subprocess.Popen[bytes]) -> None:
    with suppress(ProcessLookupError):
        os.killpg(pool.pid, signal.SIGKILL)
    pool.wait()


def poll(predicate: Callable[[], Any], timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        if time.monotonic() > deadline:
            raise SystemExit("the job did not get there in time")
        time.sleep(0.005)
    return value


def reservations(store: Store, uuid: str) -> list[dict[str, Any]]:
    return [h for h in store.get(uuid)["history"] if h["event"] == "reserved"]


def running_in(store: Store, uuid: str) -> int:
    """The pid of the worker child running the job (its worker id is host-pid-random)."""
    record = poll(lambda: (r := store.get(uuid, history=False))["state"] == "running" and r)
    return int(str(record["worker"]).rsplit("-", 2)[1])


def measure(store: Store, uuid: str, kill: Callable[[int], None]) -> float:
    """Kill the job's worker once the pool is in its steady state (idle children poll once
    a second); seconds until the job is reserved again."""
    child = running_in(store, uuid)
    time.sleep(SETTLE_SECONDS)
    before = len(reservations(store, uuid))
    killed_at = time.time()
    kill(child)
    again = poll(lambda: (found := reservations(store, uuid)) and len(found) > before and found)
    return float(again[-1]["at"]) - killed_at


def child_killed(url: str, ttr: float) -> float:
    """A child dies, its supervisor lives."""
    with closing(Store.from_url(url)) as store:
        uuid = store.enqueue(job(ttr))
        pool = start_pool(url, workers=2)
        try:
            return measure(store, uuid, lambda pid: os.kill(pid, signal.SIGKILL))
        finally:
            stop(pool)


def pool_killed(url: str, ttr: float) -> float:
    """A whole pool dies; another one takes over once the lease expired."""
    with closing(Store.from_url(url)) as store:
        uuid = store.enqueue(job(ttr))
        first = start_pool(url, workers=1)
        running_in(store, uuid)
        second = start_pool(url, workers=1)
        try:
            return measure(store, uuid, lambda pid: os.killpg(first.pid, signal.SIGKILL))
        finally:
            stop(first)
            stop(second)


def job(ttr: float) -> JobSpec:
    return JobSpec(
        type=LONG_TYPE, queue=LONG_QUEUE, values={"seconds": JOB_SECONDS}, ttr_seconds=ttr
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="sqlite:///build/bench/recovery.db")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--ttr", type=float, default=5.0, help="the job's lease, seconds")
    args = parser.parse_args(argv)
    bound = args.ttr + 2.0
    print(f"recovery of a SIGKILLed job, lease (TTR) {args.ttr:g} s, bound TTR + 2 = {bound:g} s")
    for name, scenario in (("child killed", child_killed), ("pool killed", pool_killed)):
        times = []
        for number in range(1, args.runs + 1):
            fresh(sqlite_file(args.url))
            times.append(scenario(args.url, args.ttr))
            print(f"  {name}, run {number}: running again after {times[-1]:.3f} s", flush=True)
        median, worst = statistics.median(times), max(times)
        verdict = "within" if worst <= bound else "OVER"
        print(
            f"{name:<13} median {median:6.3f} s  max {worst:6.3f} s  "
            f"({verdict} TTR + 2 s = {bound:g} s)\n"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
