"""One record damaged outside zerog, in a store that workers, a server and the CLI share:
the pool keeps serving every other job, the damaged one ends failed, and every reader
answers (issue: a malformed record used to crash the supervisor and every child)."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import urllib.request
from pathlib import Path

from tests.worker.pool import ROOT, Pool, clean_env, wait_until
from zerog.http import ServerThread, make_app
from zerog.record import JobSpec
from zerog.store import open_store


def test_a_damaged_record_stops_nothing(tmp_path: Path) -> None:
    # Given healthy jobs in two queues, and a job running under a dead worker's short lease
    # whose document was then damaged by hand
    path = tmp_path / "jobs.db"
    url = f"sqlite:///{path}"
    store = open_store(url)
    bad = store.enqueue(JobSpec(type="pool_sleep", queue="pool", ttr_seconds=1.0))
    reservation = store.reserve(["pool"], "dead-worker")
    assert reservation is not None
    assert reservation.lease.uuid == bad
    healthy = store.enqueue_many(
        JobSpec(type="pool_sleep", queue=queue) for queue in ("pool", "other") for _ in range(5)
    )
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE jobs SET doc = '{\"values\": ' WHERE uuid = ?", (bad,))
    # When a pool works on both queues
    log_path = tmp_path / "pool.log"
    with Pool(url, log_path, "-q", "pool", "-q", "other", "--workers", "1") as pool:
        # Then every healthy job runs, the damaged one is failed, and the pool lives on
        done = lambda: all(store.get(u, history=False)["state"] == "complete" for u in healthy)  # noqa: E731
        wait_until(done, 60, "the healthy jobs done")
        wait_until(lambda: store.get(bad, history=False)["state"] == "failed", 60, "quarantined")
        assert pool.proc.poll() is None
        assert "Traceback" not in log_path.read_text()
    # And every reader answers: the API, the metrics, the CLI
    with ServerThread(make_app(store)) as server:
        listing = json.loads(urllib.request.urlopen(server.url + "/api/jobs?limit=50").read())
        assert bad in {job["uuid"] for job in listing["jobs"]}
        one = json.loads(urllib.request.urlopen(f"{server.url}/api/jobs/{bad}").read())
        assert one["state"] == "failed"
        assert one["errors"][-1]["msg"].startswith("unreadable record")
        assert urllib.request.urlopen(server.url + "/metrics").status == 200
    for command in (["jobs"], ["job", bad]):
        shown = subprocess.run(
            [sys.executable, "-m", "zerog", *command, "--url", url],
            env=clean_env(),
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert shown.returncode == 0, shown.stderr
        assert "Traceback" not in shown.stderr
    store.close()
