"""``/metrics`` of a real ``zerog serve`` counts the fleet: jobs run by worker processes that
share its store, not only what the server process itself did."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from tests.http.test_serve_cli import clean_env, free_port, wait_until_up
from zerog.jobs import make_base_job
from zerog.model import State
from zerog.store import Store

ROOT = Path(__file__).resolve().parents[2]
JOBS = 12
FAILING = 3


@contextlib.contextmanager
def process(tmp_path: Path, name: str, *args: str) -> Iterator[subprocess.Popen[bytes]]:
    """``python -m zerog ARGS`` in the background, its output in a file; stopped after."""
    with open(tmp_path / f"{name}.log", "wb") as log:
        started = subprocess.Popen(
            [sys.executable, "-m", "zerog", *args],
            cwd=tmp_path,
            env=clean_env(),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            yield started
        finally:
            started.terminate()
            started.wait(timeout=30)


def scrape(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    with urllib.request.urlopen(f"{url}/metrics", timeout=10) as reply:
        text = reply.read().decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_metrics_agree_with_the_store_while_other_processes_run_jobs(tmp_path: Path) -> None:
    # Given a store with jobs that complete and jobs that fail for good,
    url = f"sqlite:///{tmp_path / 'fleet.db'}"
    store = Store.from_url(url)
    for i in range(JOBS):
        make_base_job(
            {"title": f"r{i}", "steps": 2, "step_seconds": 0.05}, "example_report"
        ).enqueue(store=store)
    for _ in range(FAILING):
        make_base_job({"fail_times": 99, "work_seconds": 0}, "example_flaky").enqueue(
            store=store, max_retries=0
        )
    port = free_port()
    server_url = f"http://127.0.0.1:{port}"
    imports = ("--import", "zerog.examples", "--path", str(ROOT))
    # When `zerog serve` runs without workers of its own, and a worker pool in another process
    # runs the jobs,
    with (
        process(tmp_path, "serve", "serve", "--url", url, "--port", str(port), *imports) as server,
        process(
            tmp_path, "worker", "worker", "--url", url, "-q", "examples", "--workers", "2", *imports
        ),
    ):
        wait_until_up(server_url, server)
        deadline = time.monotonic() + 90
        while True:
            counts = store.counts().get("examples", {})
            found = scrape(server_url)
            completed = found[("zerog_jobs_completed_total", (("queue", "examples"),))]
            failed = found[("zerog_jobs_failed_total", (("queue", "examples"),))]
            done = (
                counts.get(State.COMPLETE.value, 0) == JOBS and counts.get("failed", 0) == FAILING
            )
            # Then once the workers' statistics are flushed (every few seconds), the server's
            # counters are the store's counts, though the server ran none of the jobs.
            if done and (completed, failed) == (JOBS, FAILING):
                break
            assert time.monotonic() < deadline, (counts, completed, failed)
            time.sleep(0.5)
    assert found[("zerog_jobs", (("queue", "examples"), ("state", "complete")))] == JOBS
    assert found[("zerog_job_run_seconds_count", (("queue", "examples"),))] == JOBS
    assert found[("zerog_job_wait_seconds_count", (("queue", "examples"),))] == JOBS + FAILING
    assert found[("zerog_jobs_running", ())] == 0
    assert found[("zerog_jobs_stalled", (("queue", "examples"),))] == 0
    store.close()
