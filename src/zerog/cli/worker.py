"""``zerog worker``: a worker process with M threads, stopped by SIGTERM in two stages.

The first SIGTERM (or SIGINT) stops reserving and gives running jobs the grace period; what
still runs after it is released back to its queue with its checkpoint. A second one stops at
once (running jobs are released all the same). ``--workers N`` runs N such processes under a
small supervisor (:mod:`zerog.cli.supervisor`).
"""

from __future__ import annotations

import argparse
import logging
import signal
from contextlib import closing

from zerog import registry
from zerog.cli import supervisor
from zerog.cli._common import (
    EXIT_OK,
    Commands,
    add_imports,
    add_url,
    import_job_modules,
    open_store,
)
from zerog.cli._flags import add_flag, positive_int, positive_seconds, seconds
from zerog.settings import GRACE_SECONDS, POLL_INTERVAL_SECONDS
from zerog.urls import mask, parse_url
from zerog.worker import StopFlags, Worker, stop_on_signals

log = logging.getLogger(__name__)

DEFAULT_QUEUE = "default"  # the queue a worker takes when no job class names one.


def add_parser(commands: Commands) -> None:
    """Register ``zerog worker``."""
    parser = commands.add_parser(
        "worker",
        help="run jobs",
        description="Run jobs from one or more queues until stopped (or, with --burst, until "
        "nothing is ready). SIGTERM drains: running jobs get the grace period, "
        "then are released with their checkpoint; a second SIGTERM stops at once.",
    )
    add_url(parser)
    add_flag(
        parser,
        "-q",
        "--queue",
        dest="queues",
        many=True,
        metavar="QUEUE",
        help="work this queue; repeat for more, first is served first "
        "(default: the queues of the registered job classes, else 'default')",
    )
    add_flag(
        parser,
        "--threads",
        kind=positive_int,
        default=1,
        metavar="M",
        help="jobs run at once in this process",
    )
    add_flag(
        parser,
        "--interval",
        kind=positive_seconds,
        metavar="S",
        help=f"longest sleep between polls when idle, seconds (default: {POLL_INTERVAL_SECONDS:g})",
    )
    add_imports(parser)
    add_flag(parser, "--burst", switch=True, help="run what is ready, then exit")
    add_flag(parser, "--verbose", "-v", switch=True, help="log every state change")
    add_flag(
        parser,
        "--grace",
        kind=seconds,
        metavar="S",
        help=f"how long SIGTERM waits for running jobs (default: {GRACE_SECONDS:g})",
    )
    add_flag(
        parser,
        "--workers",
        kind=positive_int,
        default=1,
        metavar="N",
        help="run N worker processes under this one, which forwards SIGTERM to them",
    )
    parser.add_argument(supervisor.SUPERVISED_FLAG, action="store_true", help=argparse.SUPPRESS)
    parser.set_defaults(handler=run, log_level=logging.INFO)


def default_queues() -> list[str]:
    """The queues of every registered job class, else ``default``."""
    names = {registry.job_class(job_type).QUEUE_NAME for job_type in registry.known_types()}
    return sorted(names) or [DEFAULT_QUEUE]


def run(args: argparse.Namespace) -> int:
    """Work until drained; exit 0 also after a SIGTERM, since running jobs were released."""
    parse_url(args.url)  # a bad URL or job module fails here, before any child is started.
    import_job_modules(args)
    if args.workers > 1:
        return supervisor.supervise(args.argv, args.workers)
    queues = args.queues or default_queues()
    with closing(
        open_store(args, grace_seconds=args.grace, poll_interval_seconds=args.interval)
    ) as store:
        flags = StopFlags()
        with stop_on_signals(flags):
            if args.supervised:  # the parent turns Ctrl-C into one SIGTERM for each child.
                signal.signal(signal.SIGINT, signal.SIG_IGN)
            worker = Worker(store, queues, threads=args.threads, burst=args.burst, flags=flags)
            log.info(
                "worker %s: %s, queues %s",
                worker.worker_id,
                mask(store.settings.url),
                ",".join(queues),
            )
            processed = worker.run()
        log.info("worker %s stopped after %d job(s)", worker.worker_id, processed)
    return EXIT_OK
