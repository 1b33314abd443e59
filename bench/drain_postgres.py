"""How fast zerog moves jobs through PostgreSQL, next to what one plain connection does there.

    python bench/drain.py --url 'postgresql://USER@HOST/DB?schema=NAME' --jobs 10000 \\
                          [--runs 3] [--workers 2] [--threads N]

(bench/drain.py hands postgresql:// URLs to this script.) Each run measures, in the URL's
schema (dropped before each measurement and at the end):

(a) enqueue rate: N no-op jobs put one by one with ``Store.enqueue``, and in batches of 500
    with ``Store.enqueue_many``;
(b) drain rate: ``--workers`` real worker processes run the N jobs of (a)'s batches;
(c) the raw floor: one psycopg connection, each job two transactions (claim the lowest pending
    id with ``FOR UPDATE SKIP LOCKED``, then mark it done), the least any durable queue on
    PostgreSQL does per job.
"""

from __future__ import annotations

import argparse
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg

import drain
from zerog.urls import parse_url


def _connect(url: str) -> tuple[psycopg.Connection[Any], str]:
    """A plain autocommit connection to the URL's database, and its schema's name."""
    schema = parse_url(url).options.get("schema", "zerog")
    plain = urlunsplit(urlsplit(url)._replace(query=""))
    return psycopg.connect(plain, autocommit=True), schema


def drop_schema(url: str) -> None:
    """Drop the URL's schema with everything in it (the next open creates it afresh)."""
    conn, schema = _connect(url)
    with conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def raw_floor(url: str, jobs: int) -> float:
    """(c) jobs/s for the plain claim-then-finish loop on one connection."""
    conn, schema = _connect(url)
    raw = f'"{schema}_raw"'
    with conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {raw} CASCADE; CREATE SCHEMA {raw}")
        conn.execute(f"CREATE TABLE {raw}.jobs (id bigserial PRIMARY KEY, state text NOT NULL)")
        conn.execute(f"CREATE INDEX ON {raw}.jobs (state, id)")
        conn.execute(
            f"INSERT INTO {raw}.jobs (state) SELECT 'pending' FROM generate_series(1, %s)",
            (jobs,),
        )
        try:
            return jobs / drain.timed(lambda: _claim_all(conn, raw, jobs))
        finally:
            conn.execute(f"DROP SCHEMA IF EXISTS {raw} CASCADE")


def _claim_all(conn: psycopg.Connection[Any], raw: str, jobs: int) -> None:
    claim = (
        f"UPDATE {raw}.jobs SET state = 'claimed' WHERE id = (SELECT id FROM {raw}.jobs "
        f"WHERE state = 'pending' ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING id"
    )
    done = f"UPDATE {raw}.jobs SET state = 'done' WHERE id = %s"
    for _ in range(jobs):
        with conn.transaction():
            row = conn.execute(claim).fetchone()
        assert row is not None
        with conn.transaction():
            conn.execute(done, (row[0],))


def one_run(args: argparse.Namespace) -> dict[str, float]:
    """Every measurement once, each on a fresh schema."""
    label = f"{args.workers} workers x {args.threads} threads"
    rates = {
        "enqueue (one by one)": drain.enqueue_one_by_one(args.url, args.jobs),
        f"enqueue_many (batches of {drain.BATCH})": drain.enqueue_batches(args.url, args.jobs),
    }
    wall, running = drain.drain(args.url, args.jobs, args.workers, args.threads)
    rates[f"zerog drain, wall incl. start-up ({label})"] = wall
    rates[f"zerog drain, first reserve to last settle ({label})"] = running
    rates["raw PostgreSQL floor (1 connection)"] = raw_floor(args.url, args.jobs)
    drop_schema(args.url)
    return rates


def run(args: argparse.Namespace) -> int:
    """Measure and report as drain.py does for SQLite."""
    with psycopg.connect(urlunsplit(urlsplit(args.url)._replace(query=""))) as conn:
        version = conn.info.server_version
    header = f"{args.jobs:,} jobs, PostgreSQL {version // 10000}.{version % 10000}"
    return drain.run_and_report(args, one_run, f"{header}, {parse_url(args.url).masked}")
