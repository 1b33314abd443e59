"""How fast zerog moves jobs through Redis, next to what one plain connection does there.

    python bench/drain.py --url 'redis://HOST:PORT/DB?prefix=NAME' --jobs 10000 \\
                          [--runs 3] [--workers 2] [--threads N]

(bench/drain.py hands redis:// URLs to this script.) Each run measures, under the URL's key
prefix (its keys deleted before each measurement and at the end):

(a) enqueue rate: N no-op jobs put one by one with ``Store.enqueue``, and in batches of 500
    with ``Store.enqueue_many``;
(b) drain rate: ``--workers`` real worker processes run the N jobs of (a)'s batches;
(c) the raw floor: one redis-py connection, each job two commands (LMOVE from a pending list
    to a processing list, then LREM from it), the least a queue on Redis that does not drop
    a job its worker dies with does per job.
"""

from __future__ import annotations

import argparse

import redis

import drain
from zerog.backends.redis._connect import options_of
from zerog.urls import parse_url


def _client(url: str) -> tuple[redis.Redis, str]:
    """A plain client of the URL's server, and the store's key root."""
    options = options_of(parse_url(url))
    return redis.Redis.from_url(options.url), options.root


def delete_keys(url: str) -> None:
    """Delete every key of the URL's store (the next open starts it afresh)."""
    client, root = _client(url)
    with client:
        batch = []
        for key in client.scan_iter(match=f"{root}:*", count=1000):
            batch.append(key)
            if len(batch) >= 1000:
                client.unlink(*batch)
                batch = []
        if batch:
            client.unlink(*batch)


def raw_floor(url: str, jobs: int) -> float:
    """(c) jobs/s for the plain move-then-remove loop on one connection."""
    client, root = _client(url)
    pending, processing = f"{root}:raw:pending", f"{root}:raw:processing"
    with client:
        client.delete(pending, processing)
        for start in range(0, jobs, 1000):
            client.rpush(pending, *range(start, min(jobs, start + 1000)))
        try:
            return jobs / drain.timed(lambda: _claim_all(client, pending, processing, jobs))
        finally:
            client.delete(pending, processing)


def _claim_all(client: redis.Redis, pending: str, processing: str, jobs: int) -> None:
    for _ in range(jobs):
        job = client.lmove(pending, processing, "LEFT", "RIGHT")
        assert job is not None
        client.lrem(processing, 1, job)


def one_run(args: argparse.Namespace) -> dict[str, float]:
    """Every measurement once, each on a fresh prefix."""
    label = f"{args.workers} workers x {args.threads} threads"
    rates = {
        "enqueue (one by one)": drain.enqueue_one_by_one(args.url, args.jobs),
        f"enqueue_many (batches of {drain.BATCH})": drain.enqueue_batches(args.url, args.jobs),
    }
    wall, running = drain.drain(args.url, args.jobs, args.workers, args.threads)
    rates[f"zerog drain, wall incl. start-up ({label})"] = wall
    rates[f"zerog drain, first reserve to last settle ({label})"] = running
    rates["raw Redis floor (1 connection)"] = raw_floor(args.url, args.jobs)
    delete_keys(args.url)
    return rates


def run(args: argparse.Namespace) -> int:
    """Measure and report as drain.py does for SQLite."""
    client, _root = _client(args.url)
    with client:
        version = client.info("server")["redis_version"]
    header = f"{args.jobs:,} jobs, Redis {version}"
    return drain.run_and_report(args, one_run, f"{header}, {parse_url(args.url).masked}")
