"""``zerog workers``: the live worker processes, from the store's worker registry.

Each worker process registers itself (see :mod:`zerog.worker.registration`); listing prunes
the entries of processes not seen for ``--max-age`` seconds.
"""

from __future__ import annotations

import argparse
from contextlib import closing
from typing import Any

from rich.text import Text

from zerog.cli._common import (
    EXIT_OK,
    Commands,
    add_json,
    add_url,
    needs_existing_store,
    open_store,
)
from zerog.cli._flags import add_flag, positive_seconds
from zerog.cli.output import console, print_json
from zerog.cli.tables import Spec, age, fitted, short_id
from zerog.store.queues import WORKER_MAX_AGE_SECONDS

WORKER_COLUMNS: list[Spec] = [
    ("worker", 40, 12),
    ("queues", 24, 6),
    ("threads", 7, 3),
    ("up", 4, 3),
    ("seen", 8, 4),
    ("running", 80, 12),
]


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
    needs_existing_store(parser)
    parser.set_defaults(handler=list_workers)


def list_workers(args: argparse.Namespace) -> int:
    """``zerog workers``: one line per worker, fitting the terminal (``--json``: all)."""
    with closing(open_store(args)) as store:
        workers = store.workers(args.max_age)
        now = store.clock()
    if args.json:
        print_json({"workers": workers})
        return EXIT_OK
    out = console()
    rows = [_row(worker, now) for worker in workers]
    out.print(fitted(WORKER_COLUMNS, rows, out.width, f"{len(workers)} worker(s)"))
    return EXIT_OK


def _row(worker: dict[str, Any], now: float) -> list[str | Text]:
    """The worker's id (host-pid-suffix), queues, threads, uptime, last heartbeat, and the
    jobs it runs by their last digits (``zerog job`` takes them), separated."""
    jobs = worker.get("jobs") or []
    started = worker.get("started_at")
    running = ", ".join(short_id(uuid) for uuid in jobs) if jobs else "idle"
    return [
        Text(str(worker.get("id"))),
        Text(",".join(worker.get("queues") or [])),
        str(worker.get("threads", "-")),
        age(started, now) if started else "-",
        f"{age(worker['last_seen'], now)} ago",
        Text(f"{len(jobs)}: {running}" if jobs else running),
    ]
