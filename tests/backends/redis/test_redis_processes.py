"""Redis with many processes, as zerog runs it: each a separate interpreter on one server."""

from __future__ import annotations

import contextlib
import json
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import redis

from tests.backends.support.helpers import job_record
from tests.worker.pool import wait_until
from zerog.backends.redis import RedisBackend
from zerog.model import ListQuery
from zerog.record import JobSpec
from zerog.store import Store

SCRIPT = Path(__file__).parent.parent / "support" / "_redis_process.py"
PROCESSES = 8
JOBS = 3000


@contextlib.contextmanager
def processes(count: int, *args: str) -> Iterator[list[subprocess.Popen[str]]]:
    """``count`` processes of the script, each ready (its store open); killed on the way out
    if still running."""
    started = [
        subprocess.Popen(
            [sys.executable, str(SCRIPT), *args],
            text=True,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for _ in range(count)
    ]
    try:
        for process in started:
            assert process.stdout is not None
            line = process.stdout.readline()
            assert line == "ready\n", line + (process.stderr.read() if process.stderr else "")
        yield started
    finally:
        for process in started:
            if process.poll() is None:
                process.kill()
            process.communicate()  # waits, and closes the pipes.


def go(started: list[subprocess.Popen[str]]) -> None:
    """Let every process start at once."""
    for process in started:
        assert process.stdin is not None
        process.stdin.write("go\n")
        process.stdin.flush()


def reports(started: list[subprocess.Popen[str]]) -> list[dict[str, Any]]:
    found = []
    for process in started:
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, f"{out}\n{err}"
        found.append(json.loads(out.splitlines()[-1]))
    return found


def test_racing_processes_claim_each_job_exactly_once(url: str, backend: RedisBackend) -> None:
    # Given many jobs, and processes claiming one at a time or in batches, all at once
    put = {p.uuid for p in backend.put_many(job_record(backend) for _ in range(JOBS))}
    with (
        processes(PROCESSES // 2, "drain", url, "1") as singles,
        processes(PROCESSES // 2, "drain", url, "16") as batches,
    ):
        go(singles + batches)
        # When each claims and completes until nothing is left
        done = reports(singles + batches)
    # Then every job was claimed by exactly one of them, and completed once
    claimed = [uuid for report in done for uuid in report["done"]]
    assert Counter(claimed).most_common(1)[0][1] == 1
    assert set(claimed) == put
    assert sum(1 for report in done if report["done"]) >= 2  # they did race.
    assert backend.counts() == {"q": {"complete": JOBS}}
    page = backend.list(ListQuery(state="complete", limit=JOBS))
    assert all(r["attempts"] == 1 and r["lease_token"] == 1 for r in page.records)


def _blocked_clients(client: redis.Redis) -> int:
    return sum(1 for c in client.client_list() if c.get("cmd") == "blpop")


def test_a_put_from_another_process_wakes_a_blocked_worker_within_milliseconds(
    url: str, store: Store, client: redis.Redis
) -> None:
    # Given a process blocked waiting for work in "q" (its BLPOP seen by the server)
    rounds = 5
    latencies = []
    with processes(1, "wait", url, str(rounds)) as (waiter,):
        go([waiter])
        assert waiter.stdout is not None
        for _ in range(rounds):
            wait_until(lambda: _blocked_clients(client) >= 1, 30, "the waiter blocked")
            # When this process puts a job
            put_at = time.time()
            store.enqueue(JobSpec(type="t", queue="q"))
            # Then the waiter wakes at once, long before its 30 s timeout
            woke = json.loads(waiter.stdout.readline())
            assert woke["woken"] is True
            latencies.append(woke["at"] - put_at)
    print(f"wake-up after a put, ms: {[round(x * 1000, 2) for x in latencies]}")
    assert statistics.median(latencies) < 0.025  # typically under a millisecond.
    assert max(latencies) < 1.0
