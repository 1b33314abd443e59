"""Memory limits and deaths by memory, with real worker processes: a job over its limit is
killed in its own process and fails naming the limit while its pool goes on serving; a worker
killed with SIGKILL while over --max-memory is named out of memory, not a bare SIGKILL."""

from __future__ import annotations

import os
import re
import signal
from pathlib import Path

import zerog
from tests.worker.pool import pool, wait_until
from tests.worker.resource_jobs import MIB
from tests.worker.test_usage import IMPORTS, enqueue, finished
from zerog.store import Store


def test_a_job_over_its_memory_limit_fails_naming_it_and_the_pool_serves_on(
    sqlite: Store, tmp_path: Path
) -> None:
    # Given a pool of one worker process with one job thread
    url = f"sqlite:///{tmp_path / 'jobs.db'}"
    flags = ("--workers", "1", "--threads", "1", "-q", "res")
    with pool(url, tmp_path, *flags, imports=IMPORTS) as running:
        worker = running.wait_children(1)[0]
        # When a job of a class limited to 100 MiB writes 300 MiB and holds it
        over = enqueue(sqlite, "res_alloc_limited", megabytes=300, hold=60.0)
        failed = finished(sqlite, over)
        # And a plain job is enqueued after it
        after = enqueue(sqlite, "res_alloc", megabytes=1)
        done = finished(sqlite, after)
        children = running.children()
    # Then the first fails, its error naming its peak and its limit
    assert failed["state"] == "failed"
    message = failed["errors"][-1]["msg"]
    found = re.match(r"memory limit exceeded: peak (\d+) MiB, limit 100 MiB", message)
    assert found is not None, message
    assert int(found.group(1)) > 100
    assert failed["usage"]["scope"] == "process"
    assert failed["usage"]["peak_rss_bytes"] > 100 * MIB
    # And the same worker process went on to run the next job
    assert done["state"] == "complete"
    assert done["result"]["pid"] == worker
    assert children == [worker]


def test_a_worker_killed_by_sigkill_over_max_memory_is_named_out_of_memory(
    sqlite: Store, tmp_path: Path
) -> None:
    # Given a pool whose worker processes may hold 100 MiB (--max-memory)
    url = f"sqlite:///{tmp_path / 'jobs.db'}"
    flags = ("--workers", "1", "--threads", "1", "--max-memory", "100", "-q", "res")
    marker = tmp_path / "holding"
    with pool(url, tmp_path, *flags, imports=IMPORTS):
        # When a job writes 200 MiB and, holding it, its worker is killed with SIGKILL (as
        # the kernel's OOM killer does)
        uuid = enqueue(sqlite, "res_alloc", megabytes=200, hold=120.0, marker=str(marker))
        pid = int(wait_until(lambda: marker.exists() and marker.read_text(), 60, "the job"))
        os.kill(pid, signal.SIGKILL)
        record = finished(sqlite, uuid)
    # Then the attempt fails naming memory: the worker's peak against --max-memory
    message = record["errors"][-1]["msg"]
    assert message.startswith(f"worker lost: its process {pid} was killed by SIGKILL"), message
    found = re.search(r"out of memory \(.*reached (\d+) MiB, over --max-memory of 100 MiB", message)
    assert found is not None, message
    assert int(found.group(1)) >= 200


def test_a_queues_memory_limit_from_the_store_config_holds_for_any_job_of_it(
    sqlite: Store, tmp_path: Path
) -> None:
    # Given the queue's memory limit set to 60 MiB in the store's config (as `zerog config
    # res-memory-limit-mb 60` does), for a job class that sets none
    sqlite.set_config("res-memory-limit-mb", 60)
    url = f"sqlite:///{tmp_path / 'jobs.db'}"
    flags = ("--workers", "1", "--threads", "1", "-q", "res")
    with pool(url, tmp_path, *flags, imports=IMPORTS):
        # When a job of the queue writes 200 MiB
        record = finished(sqlite, enqueue(sqlite, "res_alloc", megabytes=200, hold=60.0))
    # Then it ran in a process of its own and failed over the queue's limit
    assert record["state"] == "failed"
    assert "limit 60 MiB" in record["errors"][-1]["msg"]
    assert record["usage"]["scope"] == "process"


def test_a_jobs_own_memory_limit_holds_for_it_alone(sqlite: Store, tmp_path: Path) -> None:
    # Given a pool, a job enqueued with a limit of its own (80 MiB) and one of the same class
    # without
    url = f"sqlite:///{tmp_path / 'jobs.db'}"
    flags = ("--workers", "1", "--threads", "1", "-q", "res")
    limited = zerog.make_base_job({"megabytes": 200, "hold": 60.0}, "res_alloc").enqueue(
        store=sqlite, ttr=60.0, memory_limit_mb=80
    )
    free = enqueue(sqlite, "res_alloc", megabytes=100, hold=0.2)
    with pool(url, tmp_path, *flags, imports=IMPORTS):
        # When both have run
        over, done = finished(sqlite, limited), finished(sqlite, free)
    # Then the first failed over its own limit, and the second ran on a thread, unlimited
    assert over["state"] == "failed"
    assert "limit 80 MiB" in over["errors"][-1]["msg"]
    assert done["state"] == "complete"
    assert done["usage"]["scope"] == "thread"
