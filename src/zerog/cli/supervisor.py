"""From ``zerog worker`` flags to a pool of worker processes (:mod:`zerog.worker.supervisor`).

The command line stays thin: this module turns the parsed flags into a
:class:`~zerog.worker.config.PoolConfig` and runs the supervisor. A relative
``sqlite:///`` path is made absolute first, so that a worker whose job runs in its sandbox
directory still opens the same database.
"""

from __future__ import annotations

import argparse
import os
from urllib.parse import quote, urlsplit

from zerog.backends.sqlite import path_of
from zerog.cli._common import settings_of
from zerog.urls import parse_url
from zerog.worker.config import PoolConfig
from zerog.worker.loop import WorkerOptions
from zerog.worker.sandbox import Sandboxes
from zerog.worker.supervisor import supervise

MIB = 1 << 20


def absolute_url(url: str) -> str:
    """The URL with a relative SQLite path made absolute (other URLs as they are)."""
    parsed = parse_url(url)
    if parsed.scheme != "sqlite":
        return url
    path = os.path.abspath(path_of(parsed))
    query = urlsplit(url).query
    return f"sqlite:///{quote(path)}" + (f"?{query}" if query else "")


def pool_config(args: argparse.Namespace, queues: list[str]) -> PoolConfig:
    """The pool the flags describe."""
    settings = settings_of(
        args, grace_seconds=args.grace, poll_interval_seconds=args.interval
    ).replace(url=absolute_url(args.url))
    return PoolConfig(
        settings=settings,
        queues=list(queues),
        workers=args.workers,
        threads=args.threads,
        burst=bool(args.burst),
        workdir=os.path.abspath(args.workdir) if args.workdir else None,
        max_jobs=args.max_jobs,
        max_memory_bytes=_bytes(args.max_memory),
        cancel_grace_seconds=args.cancel_grace,
        reload=not args.no_reload,
        batch=args.batch,
    )


def worker_options(args: argparse.Namespace) -> WorkerOptions:
    """What a worker run in this process (``--workers 0``) takes from the flags."""
    sandboxes = Sandboxes(args.workdir, 0, args.threads) if args.workdir else None
    return WorkerOptions(
        max_jobs=args.max_jobs,
        max_memory_bytes=_bytes(args.max_memory),
        sandboxes=sandboxes,
        reload=not args.no_reload,
        batch=args.batch,
    )


def run_pool(args: argparse.Namespace, queues: list[str]) -> int:
    """Run the pool until it is stopped; returns the supervisor's exit code."""
    return supervise(pool_config(args, queues))


def _bytes(megabytes: float | None) -> int | None:
    return None if megabytes is None else int(megabytes * MIB)
