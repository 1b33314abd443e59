"""Whether the cost of an enqueue grows with the jobs already stored, on SQLite.

    python bench/scale.py [--jobs 5000] [--stored 1000000] [--runs 5] [--dir build/bench]
                          [--ids zerog|uuid4]

Each run measures the enqueue rate, ``--jobs`` no-op jobs put one by one with
``Store.enqueue`` (jobs/s; the store is opened before the clock starts), on two files at once:

(a) an empty database (a fresh file);
(b) a database already holding ``--stored`` jobs: a copy of a file filled once and cached in
    ``--dir`` (``scale-<stored>.db``), copied to a fresh path before each run so that every
    run starts from the same file, and synced to disk before the clock starts (an old file has
    no dirty pages in the OS cache; unsynced, the copy's hundreds of MB would be written out
    by the first checkpoint's fsync and billed to the enqueues).

The two are measured interleaved, in rounds of 100 jobs, (a) then (b), then (b) then (a), so
that the drift of a shared machine (other processes, steal time) weighs on both alike.

The filled file holds a history like a real one: jobs put with ``Store.enqueue_many`` in
batches, over four queues, with small values, every hundredth tagged; then, for speed, marked
done with direct SQL rather than run by workers: 19 jobs in 20 are made ``complete`` (attempts
1, started_at / finished_at / updated_at set, completeness 1.0, and the ``reserved`` and
``completed`` history entries a worker writes), one in 20 stays ``waiting`` (a backlog).

It prints the median of the runs for (a) and (b), and (b) / (a): about 1.0 means an enqueue
costs the same with a long history as without (the goal is 0.8 to 1.2); and the median of
each run's own (b) / (a), which a run slowed as a whole by the machine moves less. The copied
file is in the operating system's page cache, as a busy server's would be. zerog's ids are
time-ordered (UUID version 7, :func:`zerog.record.new_uuid`); ``--ids uuid4`` gives the
measured jobs random uuid4 ids instead (through ``JobSpec.uuid``), to show what random inserts
into the UNIQUE uuid index would cost. It is a measurement, not a test: nothing fails when the
numbers are low.
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import sqlite3
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from contextlib import ExitStack, closing
from pathlib import Path

from zerog.record import JobSpec
from zerog.store import Store

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

from bench_jobs import BENCH_QUEUE, BENCH_TYPE  # noqa: E402 - found through BENCH_DIR.

FILL_BATCH = 10_000  # jobs per enqueue_many call while filling.
MARK_BATCH = 100_000  # seqs per transaction while marking jobs complete.
QUEUES = (BENCH_QUEUE, f"{BENCH_QUEUE}-b", f"{BENCH_QUEUE}-c", f"{BENCH_QUEUE}-d")
WAITING_EVERY = 20  # one job in this many stays waiting; the others are complete.
TAG_EVERY = 100  # one job in this many is tagged "sampled".
FILL_WORKER = "scale-fill"  # the worker named in the history entries of the filled jobs.
TARGET = (0.8, 1.2)  # the ratio (b) / (a) we aim for.
ROUND = 100  # jobs enqueued on one file before switching to the other.
EMPTY, FULL = "empty", "full"

MARK_COMPLETE = f"""
UPDATE jobs SET
    state = 'complete', attempts = 1, worker = NULL, lease_expires_at = NULL, control = NULL,
    started_at = created_at + 0.001, finished_at = created_at + 0.002,
    updated_at = created_at + 0.002,
    doc = json_set(doc, '$.completeness', 1.0, '$.result', NULL, '$.result_code', NULL)
WHERE seq BETWEEN ?1 AND ?2 AND seq % {WAITING_EVERY} != 0
"""
ADD_RUN_HISTORY = """
INSERT INTO history (job, n, at, event, state, worker, detail)
SELECT seq, 2, started_at, 'reserved', 'running', ?3, 'attempt 1'
FROM jobs WHERE seq BETWEEN ?1 AND ?2 AND state = 'complete'
UNION ALL
SELECT seq, 3, finished_at, 'completed', 'complete', ?3, NULL
FROM jobs WHERE seq BETWEEN ?1 AND ?2 AND state = 'complete'
"""


def url_of(path: Path) -> str:
    """The ``sqlite:///`` URL of a file (absolute: ``sqlite:////abs/path.db``)."""
    return f"sqlite:///{path.resolve()}"


def fresh(path: Path) -> None:
    """Remove the database and its WAL files (making its directory if need be)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def history_spec(n: int) -> JobSpec:
    """The n-th job of the filled file's history."""
    tags = ("sampled",) if n % TAG_EVERY == 0 else ()
    return JobSpec(type=BENCH_TYPE, queue=QUEUES[n % len(QUEUES)], values={"n": n}, tags=tags)


def filled(directory: Path, stored: int) -> Path:
    """The cached file holding ``stored`` jobs, built first if it is missing (at a temporary
    name, renamed when complete, so that an interrupted build is never reused)."""
    cache = directory / f"scale-{stored}.db"
    if cache.exists():
        print(f"reusing {cache} ({cache.stat().st_size / 1e6:,.0f} MB)", flush=True)
        upgrade(cache)
        return cache
    building = directory / f"scale-{stored}.building.db"
    fresh(building)
    print(f"building {cache} with {stored:,} jobs (once)...", flush=True)
    started = time.perf_counter()
    put_history(building, stored)
    put_at = time.perf_counter()
    mark_complete(building, stored)
    print(
        f"  built in {time.perf_counter() - started:,.0f} s "
        f"(enqueue_many {put_at - started:,.0f} s, marking complete "
        f"{time.perf_counter() - put_at:,.0f} s), {building.stat().st_size / 1e6:,.0f} MB",
        flush=True,
    )
    building.rename(cache)
    return cache


def upgrade(cache: Path) -> None:
    """Open the cached file once, so that a zerog with a newer schema upgrades it in place
    (a no-op otherwise) before it is copied, rather than each copy before its run."""
    with closing(Store.from_url(url_of(cache))):
        pass
    with closing(sqlite3.connect(cache, isolation_level=None)) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # the copy takes the main file only.


def put_history(path: Path, stored: int) -> None:
    """``stored`` jobs put with ``Store.enqueue_many``, in batches of FILL_BATCH."""
    with closing(Store.from_url(url_of(path))) as store:
        started = time.perf_counter()
        for first in range(0, stored, FILL_BATCH):
            done = min(stored, first + FILL_BATCH)
            store.enqueue_many(history_spec(n) for n in range(first, done))
            if done % 100_000 < FILL_BATCH:
                rate = done / (time.perf_counter() - started)
                print(f"  put {done:,} jobs ({rate:,.0f} jobs/s)", flush=True)


def mark_complete(path: Path, stored: int) -> None:
    """Make 19 jobs in 20 complete with direct SQL (what a worker's run writes: the columns,
    the document's completeness and result, the reserved and completed history entries), then
    fold the WAL into the file so that the cache is one file."""
    with closing(sqlite3.connect(path, isolation_level=None)) as conn:
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA cache_size = -262144")  # 256 MiB: only to build the file faster.
        for first in range(1, stored + 1, MARK_BATCH):
            last = first + MARK_BATCH - 1
            conn.execute("BEGIN IMMEDIATE")
            conn.execute(MARK_COMPLETE, (first, last))
            conn.execute(ADD_RUN_HISTORY, (first, last, FILL_WORKER))
            conn.execute("COMMIT")
        counts = dict(conn.execute("SELECT state, count(*) FROM jobs GROUP BY state").fetchall())
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    print(f"  states: {', '.join(f'{s} {n:,}' for s, n in sorted(counts.items()))}", flush=True)
    if sum(counts.values()) != stored:
        raise SystemExit(f"the filled file holds {sum(counts.values())} jobs, not {stored}")


def copy_synced(source: Path, target: Path) -> None:
    """Copy ``source`` to a fresh ``target`` and write the copy to disk."""
    fresh(target)
    shutil.copyfile(source, target)
    fd = os.open(target, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def one_run(args: argparse.Namespace, cache: Path) -> dict[str, float]:
    """(a) and (b) once, interleaved in rounds; {EMPTY: jobs/s, FULL: jobs/s}."""
    paths = {EMPTY: args.dir / "scale-run-empty.db", FULL: args.dir / "scale-run-full.db"}
    fresh(paths[EMPTY])
    copy_synced(cache, paths[FULL])
    ids: Callable[[], str | None] = (
        (lambda: str(uuid.uuid4())) if args.ids == "uuid4" else (lambda: None)
    )
    took = dict.fromkeys(paths, 0.0)
    try:
        with ExitStack() as stack:
            stores = {
                name: stack.enter_context(closing(Store.from_url(url_of(path))))
                for name, path in paths.items()
            }
            for number, start in enumerate(range(0, args.jobs, ROUND)):
                size = min(ROUND, args.jobs - start)
                for name in (EMPTY, FULL) if number % 2 == 0 else (FULL, EMPTY):
                    store = stores[name]
                    began = time.perf_counter()
                    for _ in range(size):
                        store.enqueue(JobSpec(type=BENCH_TYPE, queue=BENCH_QUEUE, uuid=ids()))
                    took[name] += time.perf_counter() - began
    finally:
        for path in paths.values():
            fresh(path)
    return {name: args.jobs / seconds for name, seconds in took.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=5000, help="jobs enqueued per measurement")
    parser.add_argument("--stored", type=int, default=1_000_000, help="jobs in the full file")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--dir", type=Path, default=Path("build/bench"), help="where the files are kept"
    )
    parser.add_argument(
        "--ids",
        choices=("zerog", "uuid4"),
        default="zerog",
        help="ids of the measured jobs: zerog's own, time-ordered (default), or random uuid4",
    )
    args = parser.parse_args(argv)
    print("$ " + shlex.join(["python", *sys.argv]), flush=True)
    args.dir.mkdir(parents=True, exist_ok=True)
    cache = filled(args.dir, args.stored)
    full = f"at {args.stored:,} stored jobs"
    runs: list[dict[str, float]] = []
    for number in range(1, args.runs + 1):
        rates = one_run(args, cache)
        runs.append(rates)
        print(
            f"run {number}: empty {rates[EMPTY]:,.0f}/s, {full} {rates[FULL]:,.0f}/s, "
            f"ratio {rates[FULL] / rates[EMPTY]:.3f}",
            flush=True,
        )
    empty_rate = statistics.median(r[EMPTY] for r in runs)
    full_rate = statistics.median(r[FULL] for r in runs)
    ratio = full_rate / empty_rate
    low, high = TARGET
    verdict = "within" if low <= ratio <= high else "OUTSIDE"
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(
        f"\nmedians of {args.runs} run(s), {args.jobs:,} jobs enqueued one by one "
        f"(Store.enqueue, {args.ids} ids), sqlite {sqlite3.sqlite_version}, "
        f"{args.dir.resolve()}, load average {load}"
    )
    print(f"  {'enqueue on an empty database':<40} {empty_rate:>10,.0f} jobs/s")
    print(f"  {'enqueue ' + full:<40} {full_rate:>10,.0f} jobs/s")
    print(
        f"  {f'ratio (at {args.stored:,} / at 0)':<40} {ratio:>10.3f}"
        f"   ({verdict} the target {low}..{high})"
    )
    per_run = statistics.median(r[FULL] / r[EMPTY] for r in runs)
    print(f"  {'median of the per-run ratios':<40} {per_run:>10.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
