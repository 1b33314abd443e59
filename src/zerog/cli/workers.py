"""``zerog workers``: the live worker processes, from the store's worker registry.

Each worker process registers itself (see :mod:`zerog.worker.registration`); listing prunes
the entries of processes not seen for ``--max-age`` seconds.
"""

from __future__ import annotations

import argparse
from contextlib import closing
from typing import Any

from rich.table import Column, Table
from rich.text import Text

from zerog.cli._common import EXIT_OK, Commands, add_json, add_url, open_store
from zerog.cli._flags import add_flag, positive_seconds
from zerog.cli._output import console, duration, print_json, short
from zerog.store.queues import WORKER_MAX_AGE_SECONDS


def add_parser(commands: Commands) -> None:
    """Register ``zerog workers``."""
    parser = commands.add_parser(
        "workers",
        help="list the live worker processes",
        description="List the worker processes registered in the store: host, pid, queues, "
        "the jobs each runs now and when it was last seen.",
    )
    add_url(parser)
    add_flag(
        parser,
        "--max-age",
        env="ZEROG_WORKERS_MAX_AGE",
        kind=positive_seconds,
        default=WORKER_MAX_AGE_SECONDS,
        metavar="S",
        help="a worker not seen for S seconds is gone (and pruned)",
    )
    add_json(parser)
    parser.set_defaults(handler=list_workers)


def list_workers(args: argparse.Namespace) -> int:
    """``zerog workers``."""
    with closing(open_store(args)) as store:
        workers = store.workers(args.max_age)
        now = store.clock()
    if args.json:
        print_json({"workers": workers})
        return EXIT_OK
    table = Table(
        Column("worker", no_wrap=True),
        "host",
        "pid",
        "queues",
        "threads",
        "jobs",
        "up",
        "seen",
        "version",
        title=f"{len(workers)} worker(s)",
        title_justify="left",
    )
    for worker in workers:
        table.add_row(*_row(worker, now))
    console().print(table)
    return EXIT_OK


def _row(worker: dict[str, Any], now: float) -> list[str | Text]:
    jobs = worker.get("jobs") or []
    started = worker.get("started_at")
    return [
        Text(str(worker.get("id"))),
        Text(str(worker.get("host", "-"))),
        str(worker.get("pid", "-")),
        Text(short(",".join(worker.get("queues") or []), 30)),
        str(worker.get("threads", "-")),
        Text(f"{len(jobs)}" + (f": {short(' '.join(jobs), 40)}" if jobs else "")),
        duration(now - started if started else None),
        f"{duration(now - worker['last_seen'])} ago",
        Text(str(worker.get("version", "-"))),
    ]
