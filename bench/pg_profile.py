"""One worker draining queued no-op jobs in this process: its rate, its CPU per job, the
statements it gave the connection and the round trips and statements that reached the
server, per job, and (``--profile``) where its consumer thread spent its time.

    python bench/pg_profile.py --url 'postgresql://USER@HOST/DB?schema=NAME' --jobs 5000 \\
                               [--profile]

The URL's schema is dropped first. Statements are counted as ``PgConn.execute`` and
``PgConn.defer`` receive them (a deferred write is counted once, however it is sent). Run it
with another tree first on ``PYTHONPATH`` to compare (what bench/ab.py does for drain.py).
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))

import drain
from bench_jobs import BENCH_QUEUE
from zerog.backends.postgres import _db
from zerog.store import Store
from zerog.worker.loop import Worker

SEEN: Counter[str] = Counter()
WIRE: Counter[str] = Counter()  # "round trips" and "statements sent".


def count_wire() -> None:
    """Count what psycopg sends: a statement outside a pipeline is a round trip, and so is a
    pipeline (its statements go together)."""
    execute, pipeline = psycopg.Connection.execute, psycopg.Connection.pipeline

    def executed(self: Any, *args: Any, **kwargs: Any) -> Any:
        WIRE["statements sent"] += 1
        if getattr(self, "_pipeline", None) is None:
            WIRE["round trips"] += 1
        return execute(self, *args, **kwargs)

    def piped(self: Any) -> Any:
        WIRE["round trips"] += 1
        return pipeline(self)

    psycopg.Connection.execute = executed  # type: ignore[method-assign]
    psycopg.Connection.pipeline = piped  # type: ignore[method-assign]


def count(name: str) -> None:
    """Count the statements ``PgConn.<name>`` is given, by their first line."""
    method = getattr(_db.PgConn, name, None)
    if method is None:  # a tree without it.
        return

    def counted(self: Any, sql: str, parameters: Any = None, /) -> Any:
        SEEN[sql.split("\n")[0][:70]] += 1
        return method(self, sql, parameters)

    setattr(_db.PgConn, name, counted)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--jobs", type=int, default=5000)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    drain.enqueue_batches(args.url, args.jobs)
    count("execute")
    count("defer")
    count_wire()
    profile = cProfile.Profile()
    consume = Worker._consume

    def profiled(self: Worker, thread: int) -> None:
        profile.enable()
        try:
            consume(self, thread)
        finally:
            profile.disable()

    if args.profile:
        Worker._consume = profiled  # type: ignore[method-assign]
    store = Store.from_url(args.url)
    wall, cpu = time.perf_counter(), time.process_time()
    done = Worker(store, [BENCH_QUEUE], burst=True).run()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    store.close()
    drain.reset(args.url)
    print(
        f"{done} jobs in {wall:.2f} s: {done / wall:,.0f} jobs/s, {cpu / done * 1e6:.0f} µs CPU/job"
    )
    for what, n in sorted(WIRE.items()):
        print(f"  {n / done:7.3f} a job  {what}")
    for sql, n in SEEN.most_common(12):
        print(f"  {n / done:7.3f} a job  {sql}")
    if args.profile:
        pstats.Stats(profile).sort_stats("tottime").print_stats(25)
    return 0


if __name__ == "__main__":
    sys.exit(main())
