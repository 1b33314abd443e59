"""How fast zerog moves jobs on SQLite, next to what SQLite itself can do on this disk.

    python bench/drain.py --url sqlite:///PATH.db --jobs 10000 [--runs 3] [--workers 2]
                          [--threads N]

A ``postgresql://`` URL measures the PostgreSQL backend the same way (see drain_postgres.py),
a ``redis://`` URL the Redis backend (see drain_redis.py).

For each run, on a fresh database file:

(a) enqueue rate: N no-op jobs put one by one with ``Store.enqueue``, and (on another fresh
    file) in batches of 500 with ``Store.enqueue_many``;
(b) drain rate: ``--workers`` real worker processes (``python -m zerog worker --burst``) run the
    N jobs of (a)'s batch file, timed from their start until the last one exits;
(c) the raw SQLite floor on the same filesystem: one connection, WAL, synchronous=NORMAL,
    each job two transactions (claim the lowest pending id, then mark it done), which is the
    least any durable queue on SQLite has to write per job.

It prints the median of the runs for each, and zerog's drain rate as a fraction of the floor.
It is a measurement, not a test: nothing fails when the numbers are low.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack, closing
from pathlib import Path

from zerog.record import JobSpec
from zerog.store import Store
from zerog.urls import parse_url

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

from bench_jobs import BENCH_QUEUE, BENCH_TYPE  # noqa: E402 - found through BENCH_DIR.

BATCH = 500  # jobs per enqueue_many call.
DRAIN_TIMEOUT_SECONDS = 1800.0


def sqlite_path(url: str) -> Path:
    """The file of a ``sqlite:///relative.db`` or ``sqlite:////absolute.db`` URL."""
    parsed = parse_url(url)
    if parsed.scheme != "sqlite":
        raise SystemExit(f"drain.py measures SQLite: give a sqlite:/// URL, not {url!r}")
    return Path(parsed.path[1:])


def fresh(path: Path) -> None:
    """Remove the database and its WAL files (making its directory if need be)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def reset(url: str) -> None:
    """Empty the store a URL names: a fresh SQLite file, a dropped PostgreSQL schema, or the
    keys of a Redis prefix deleted."""
    if parse_url(url).scheme == "postgresql":
        import drain_postgres

        drain_postgres.drop_schema(url)
    elif parse_url(url).scheme == "redis":
        import drain_redis

        drain_redis.delete_keys(url)
    else:
        fresh(sqlite_path(url))


def timed(action: Callable[[], object]) -> float:
    """Seconds the action took."""
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def spec() -> JobSpec:
    return JobSpec(type=BENCH_TYPE, queue=BENCH_QUEUE)


def enqueue_one_by_one(url: str, jobs: int) -> float:
    """(a) jobs/s with one ``Store.enqueue`` call per job."""
    reset(url)
    with closing(Store.from_url(url)) as store:
        return jobs / timed(lambda: [store.enqueue(spec()) for _ in range(jobs)])


def enqueue_batches(url: str, jobs: int) -> float:
    """(a) jobs/s with ``Store.enqueue_many`` in batches of 500; leaves the jobs for (b)."""
    reset(url)

    def put_all(store: Store) -> None:
        for start in range(0, jobs, BATCH):
            store.enqueue_many(spec() for _ in range(min(BATCH, jobs - start)))

    with closing(Store.from_url(url)) as store:
        return jobs / timed(lambda: put_all(store))


def drain(url: str, jobs: int, workers: int, threads: int) -> tuple[float, float]:
    """(b) jobs/s for ``workers`` burst worker processes running the queued jobs: over the
    wall time (with the processes' start-up) and from the first reservation to the last
    settlement (what the raw floor measures too)."""
    command = [
        sys.executable,
        "-m",
        "zerog",
        "worker",
        "--workers",
        "1",  # one process per command: the bench starts --workers commands itself.
        "--burst",
        "--url",
        url,
        "-q",
        BENCH_QUEUE,
        "--import",
        "bench_jobs",
        "--path",
        str(BENCH_DIR),
        "--threads",
        str(threads),
    ]
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZEROG_")}
    # Each worker's log goes to a file of its own: a pipe read only once the process ends
    # would fill after some 500 lines (one per job) and stall that worker's writes.
    with ExitStack() as files:
        logs = [files.enter_context(tempfile.TemporaryFile()) for _ in range(workers)]
        start = time.perf_counter()
        processes = [
            subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=log)
            for log in logs
        ]
        for process, log in zip(processes, logs, strict=True):
            process.wait(timeout=DRAIN_TIMEOUT_SECONDS)
            if process.returncode != 0:
                log.seek(0)
                err = log.read().decode(errors="replace")[-2000:]
                raise SystemExit(f"a worker failed ({process.returncode}): {err}")
        took = time.perf_counter() - start
    with closing(Store.from_url(url)) as store:
        done = store.counts().get(BENCH_QUEUE, {}).get("complete", 0)
        first, last = run_window(store)
    if done != jobs:
        raise SystemExit(f"only {done} of {jobs} jobs complete after the drain")
    return jobs / took, jobs / (last - first)


def run_window(store: Store) -> tuple[float, float]:
    """The first start and the last finish among the drained jobs."""
    starts, finishes, cursor = [], [], None
    while True:
        page = store.list(queue=BENCH_QUEUE, limit=500, cursor=cursor)
        starts += [r["started_at"] for r in page.records]
        finishes += [r["finished_at"] for r in page.records]
        if page.cursor is None:
            return min(starts), max(finishes)
        cursor = page.cursor


def raw_floor(path: Path, jobs: int) -> float:
    """(c) jobs/s for the plain sqlite3 claim-then-finish loop on one connection."""
    fresh(path)
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("CREATE TABLE jobs (id INTEGER PRIMARY KEY, state TEXT NOT NULL)")
        conn.execute("CREATE INDEX jobs_state ON jobs (state, id)")
        conn.executemany("INSERT INTO jobs (state) VALUES ('pending')", ([] for _ in range(jobs)))
        return jobs / timed(lambda: _claim_all(conn, jobs))
    finally:
        conn.close()
        fresh(path)


def _claim_all(conn: sqlite3.Connection, jobs: int) -> None:
    for _ in range(jobs):
        conn.execute("BEGIN IMMEDIATE")
        (job_id,) = conn.execute(
            "SELECT id FROM jobs WHERE state = 'pending' ORDER BY id LIMIT 1"
        ).fetchone()
        conn.execute("UPDATE jobs SET state = 'claimed' WHERE id = ?", (job_id,))
        conn.execute("COMMIT")
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("UPDATE jobs SET state = 'done' WHERE id = ?", (job_id,))
        conn.execute("COMMIT")


def one_run(args: argparse.Namespace) -> dict[str, float]:
    """Every measurement once, each on a fresh file."""
    path = sqlite_path(args.url)
    label = f"{args.workers} workers x {args.threads} threads"
    rates = {
        "enqueue (one by one)": enqueue_one_by_one(args.url, args.jobs),
        f"enqueue_many (batches of {BATCH})": enqueue_batches(args.url, args.jobs),
    }
    wall, running = drain(args.url, args.jobs, args.workers, args.threads)
    rates[f"zerog drain, wall incl. start-up ({label})"] = wall
    rates[f"zerog drain, first reserve to last settle ({label})"] = running
    rates["raw SQLite floor (1 connection)"] = raw_floor(
        path.with_name(path.name + ".raw"), args.jobs
    )
    fresh(path)
    return rates


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--url",
        required=True,
        help="sqlite:///PATH.db (overwritten), beanstalk://HOST:PORT?store=sqlite:///PATH.db, "
        "postgresql://USER@HOST/DB?schema=NAME (the schema is dropped), or "
        "redis://HOST:PORT/DB?prefix=NAME (the prefix's keys are deleted)",
    )
    parser.add_argument("--jobs", type=int, default=10000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    if parse_url(args.url).scheme == "beanstalk":  # measured beside greenstalk, same flags.
        import drain_beanstalk

        return drain_beanstalk.main(argv)
    if parse_url(args.url).scheme == "postgresql":
        import drain_postgres

        return drain_postgres.run(args)
    if parse_url(args.url).scheme == "redis":
        import drain_redis

        return drain_redis.run(args)
    header = f"{args.jobs:,} jobs, sqlite {sqlite3.sqlite_version}"
    return run_and_report(args, one_run, f"{header}, {sqlite_path(args.url).resolve().parent}")


def run_and_report(
    args: argparse.Namespace,
    one_run: Callable[[argparse.Namespace], dict[str, float]],
    header: str,
) -> int:
    """Run ``one_run`` ``args.runs`` times and print each run, the medians and the two
    ratios to the raw floor. ``one_run`` returns, in order: the two enqueue rates, the drain
    over wall time, the drain from first reserve to last settle, and the raw floor."""
    runs = []
    for number in range(1, args.runs + 1):
        runs.append(one_run(args))
        print(
            f"run {number}: " + ", ".join(f"{k} {v:,.0f}/s" for k, v in runs[-1].items()),
            flush=True,
        )
    medians = {name: statistics.median(r[name] for r in runs) for name in runs[0]}
    print(f"\nmedians of {args.runs} run(s), {header}")
    for name, rate in medians.items():
        print(f"  {name:<60} {rate:>10,.0f} jobs/s")
    names = list(medians)
    floor = medians[names[4]]
    print(f"  {'zerog drain (wall) / raw floor':<60} {medians[names[2]] / floor:>10.3f}")
    print(
        f"  {'zerog drain (reserve to settle) / raw floor':<60} {medians[names[3]] / floor:>10.3f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
