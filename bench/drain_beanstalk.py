"""How fast zerog moves jobs through beanstalkd, next to what greenstalk alone does there.

    python bench/drain.py --url 'beanstalk://HOST:PORT?store=sqlite:///PATH.db' \\
                          --jobs 10000 [--runs 3] [--workers 2] [--threads N]

(bench/drain.py hands beanstalk:// URLs to this script.) For each run, on a fresh store file
(``store=postgresql%3A%2F%2FUSER%40HOST%2FDB%3Fschema%3DNAME``: fresh schemas named after NAME,
dropped first) and tubes of the run's own (a fresh tube prefix):

(a) enqueue rate: N no-op jobs put one by one with ``Store.enqueue``, and (on another fresh
    store) in batches of 500 with ``Store.enqueue_many``;
(b) drain rate: ``--workers`` real worker processes (``python -m zerog worker --burst``) run
    the N jobs of (a)'s batch store, timed from their start until the last one exits, and
    from the first reservation to the last settlement;
(c) the raw greenstalk floor on the same server: one connection puts N entries of a job's
    size, then reserves and deletes each (put+reserve+delete: the least any queue on
    beanstalkd does per job); reserve+delete alone is printed too. It is measured twice: as
    the machine is, and with every other core kept busy by a lowest-priority spinner. One
    connection's round trips wait on a sleeping peer, and on a virtual machine with idle
    cores each wake-up can cost more than the work (seen here: 1,300-1,700 round trips of
    put+reserve+delete a second idle, 6,400-6,900 with a spinner), while the drain keeps
    every core busy and never pays it. The ratio is taken against the higher of the two.

It prints the median of the runs for each, and zerog's drain rate as a fraction of the floor.
It is a measurement, not a test: nothing fails when the numbers are low.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import greenstalk

from zerog.store import Store
from zerog.urls import parse_url

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

from drain import BATCH, drain, run_and_report, spec, timed  # noqa: E402 - found through BENCH_DIR.


def with_options(url: str, **options: str) -> str:
    """The URL with these query options set (others kept)."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    query.update(options)
    return urlunsplit(parts._replace(query=urlencode(query)))


def store_path(url: str) -> Path:
    """The SQLite file of a beanstalk URL's ``store=sqlite:///...``."""
    store = parse_url(url).options.get("store", "")
    parsed = parse_url(store)
    if parsed.scheme != "sqlite":
        raise SystemExit(
            f"give the beanstalk URL a store=sqlite:///... or store=postgresql://... option, "
            f"not {store!r}"
        )
    return Path(parsed.path[1:])


def fresh(url: str, name: str) -> str:
    """The URL on a new store (a file: the given one's name plus ``name``; on PostgreSQL a
    schema so named, dropped first) and new tubes."""
    prefix = f"bench{uuid.uuid4().hex[:8]}."
    store = parse_url(url).options.get("store", "")
    if parse_url(store).scheme == "postgresql":
        import drain_postgres

        schema = parse_url(store).options.get("schema", "zerog")
        target = with_options(store, schema=f"{schema}_{name.replace('-', '_')}")
        drain_postgres.drop_schema(target)
        return with_options(url, store=target, prefix=prefix)
    given = store_path(url)
    path = given.with_name(f"{given.stem}.{name}{given.suffix}")
    path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm", "-journal", "-writer"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return with_options(url, store=f"sqlite:///{path}", prefix=prefix)


def enqueue_one_by_one(url: str, jobs: int) -> float:
    """(a) jobs/s with one ``Store.enqueue`` call per job."""
    with closing(Store.from_url(fresh(url, "one-by-one"))) as store:
        return jobs / timed(lambda: [store.enqueue(spec()) for _ in range(jobs)])


def enqueue_batches(url: str, jobs: int) -> tuple[float, str]:
    """(a) jobs/s with ``Store.enqueue_many`` in batches of 500; returns the URL holding the
    jobs, for (b)."""
    target = fresh(url, "drain")

    def put_all(store: Store) -> None:
        for start in range(0, jobs, BATCH):
            store.enqueue_many(spec() for _ in range(min(BATCH, jobs - start)))

    with closing(Store.from_url(target)) as store:
        return jobs / timed(lambda: put_all(store)), target


def raw_floor(url: str, jobs: int) -> tuple[float, float]:
    """(c) jobs/s for put+reserve+delete, and for reserve+delete alone, on one connection."""
    parsed = parse_url(url)
    tube = f"rawbench{uuid.uuid4().hex[:8]}"
    body = '{"uuid":"%s"}' % uuid.uuid4()  # noqa: UP031 - a job's entry, byte for byte.
    with greenstalk.Client((parsed.host or "127.0.0.1", parsed.port or 11300), use=tube) as client:
        client.watch(tube)
        start = time.perf_counter()
        for _ in range(jobs):
            client.put(body)
        put_done = time.perf_counter()
        for _ in range(jobs):
            client.delete(client.reserve(timeout=0))
        end = time.perf_counter()
    return jobs / (end - start), jobs / (end - put_done)


@contextlib.contextmanager
def other_cores_busy() -> Iterator[None]:
    """Keep every core but one busy with a spinner at the lowest priority (nice 19), which
    yields to anything else that wants the core: no core sits idle, so no round trip waits
    for one to wake up."""
    spinners = [
        subprocess.Popen(
            [sys.executable, "-c", "import os; os.nice(19)\nwhile True: pass"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(max(1, (os.cpu_count() or 2) - 1))
    ]
    try:
        time.sleep(0.3)  # the spinners' start-up.
        yield
    finally:
        for spinner in spinners:
            spinner.kill()
            spinner.wait()


def one_run(args: argparse.Namespace) -> dict[str, float]:
    """Every measurement once, each on a fresh store and fresh tubes."""
    label = f"{args.workers} workers x {args.threads} threads"
    rates = {"enqueue (one by one)": enqueue_one_by_one(args.url, args.jobs)}
    rates[f"enqueue_many (batches of {BATCH})"], target = enqueue_batches(args.url, args.jobs)
    wall, running = drain(target, args.jobs, args.workers, args.threads)
    rates[f"zerog drain, wall incl. start-up ({label})"] = wall
    rates[f"zerog drain, first reserve to last settle ({label})"] = running
    idle, drain_only = raw_floor(args.url, args.jobs)
    with other_cores_busy():
        busy, _ = raw_floor(args.url, args.jobs)
    rates["raw greenstalk floor: the higher of the next two"] = max(idle, busy)
    rates["  put+reserve+delete, 1 connection, cores as they are"] = idle
    rates["  put+reserve+delete, 1 connection, other cores kept busy"] = busy
    rates["raw greenstalk reserve+delete only (1 connection)"] = drain_only
    return rates


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--url",
        required=True,
        help="beanstalk://...?store=sqlite:///PATH.db (or a percent-encoded postgresql:// URL)",
    )
    parser.add_argument("--jobs", type=int, default=10000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    header = f"{args.jobs:,} jobs, {parse_url(args.url).masked}"
    return run_and_report(args, one_run, header)


if __name__ == "__main__":
    sys.exit(main())
