"""``zerog worker``: a forking supervisor with N worker processes of M threads each.

The first SIGTERM (or SIGINT) stops reserving and gives running jobs the grace period; what
still runs after it is released back to its queue with its checkpoint. A second one stops at
once (running jobs are released all the same). SIGHUP restarts the worker processes
gracefully. See :mod:`zerog.worker.supervisor` for the pool and :mod:`zerog.cli.supervisor`
for how the flags become its configuration; ``--workers 0`` runs one worker in this process,
without a supervisor (for debugging).
"""

from __future__ import annotations

import argparse
import logging
import os
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
from zerog.cli._flags import add_flag, factor, positive_int, positive_seconds, seconds
from zerog.config import check_webhook_url
from zerog.errors import BackendError
from zerog.settings import GRACE_SECONDS, POLL_INTERVAL_SECONDS
from zerog.urls import mask, parse_url
from zerog.worker import StopFlags, Worker, stop_on_signals, webhook
from zerog.worker.batch import DEFAULT_BATCH
from zerog.worker.config import CANCEL_GRACE_SECONDS
from zerog.worker.procinfo import core_count

log = logging.getLogger(__name__)

DEFAULT_QUEUE = "default"  # the queue a worker takes when no job class names one.


def add_parser(commands: Commands) -> None:
    """Register ``zerog worker``."""
    parser = commands.add_parser(
        "worker",
        help="run jobs",
        description="Run jobs from one or more queues until stopped (or, with --burst, until "
        "nothing is ready), in N worker processes of M threads under a supervisor that "
        "respawns them. SIGTERM drains: running jobs get the grace period, then are released "
        "with their checkpoint; a second SIGTERM stops at once; SIGHUP restarts the workers.",
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
    _add_pool_flags(parser)
    add_imports(parser)
    add_flag(
        parser,
        "--workdir",
        metavar="DIR",
        help="give each job an empty scratch directory, DIR/zerog-workers/sandbox-<k>, "
        "emptied before and after it (its working directory when --threads is 1)",
    )
    add_flag(parser, "--burst", switch=True, help="run what is ready, then exit")
    add_flag(
        parser,
        "--no-reload",
        dest="no_reload",
        switch=True,
        help="do not reload a job's module when its file changes",
    )
    add_flag(parser, "--verbose", "-v", switch=True, help="log every state change")
    add_flag(
        parser,
        "--webhook",
        metavar="URL",
        env=webhook.URL_ENV,
        help="POST a JSON event to URL when a job stalls or fails for good (default: the "
        "store's config webhook-url)",
    )
    add_flag(
        parser,
        "--webhook-timeout",
        kind=positive_seconds,
        metavar="S",
        help="how long one POST to the webhook may take (default: 5)",
    )
    parser.set_defaults(handler=run, log_level=logging.INFO)


def _add_pool_flags(parser: argparse.ArgumentParser) -> None:
    cores = core_count()
    add_flag(
        parser,
        "--workers",
        kind=processes,
        default=cores,
        metavar="N",
        help="worker processes, one per core by default; 0 runs one worker in this process, "
        "with no supervisor",
    )
    add_flag(
        parser, "--threads", kind=positive_int, default=1, metavar="M", help="jobs per process"
    )
    add_flag(
        parser,
        "--batch",
        kind=positive_int,
        default=DEFAULT_BATCH,
        metavar="K",
        help="most jobs a thread claims at once while its jobs run in under 10 ms (and no more "
        "than about 25 ms of work); a job that runs longer sets it back to 1, and claimed jobs "
        "wait at most about a second before they are given back (1: claim one job at a time)",
    )
    add_flag(
        parser,
        "--interval",
        kind=positive_seconds,
        metavar="S",
        help=f"longest sleep between polls when idle, seconds (default: {POLL_INTERVAL_SECONDS:g})",
    )
    add_flag(
        parser,
        "--grace",
        kind=seconds,
        metavar="S",
        help=f"how long SIGTERM waits for running jobs (default: {GRACE_SECONDS:g})",
    )
    add_flag(
        parser,
        "--cancel-grace",
        kind=seconds,
        default=CANCEL_GRACE_SECONDS,
        metavar="S",
        help="how long a cancelled or paused job may go on before its process is terminated",
    )
    add_flag(
        parser,
        "--max-jobs",
        kind=positive_int,
        metavar="N",
        help="replace a worker process after about N jobs",
    )
    add_flag(
        parser,
        "--max-memory",
        kind=factor,
        metavar="MB",
        help="replace a worker process once its resident memory is above MB MiB (checked "
        "after each job)",
    )


def processes(text: str) -> int:
    """A number of worker processes: an integer >= 0."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer, not {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, not {text!r}")
    return value


def default_queues() -> list[str]:
    """The queues of every registered job class, else ``default``."""
    names = {registry.job_class(job_type).QUEUE_NAME for job_type in registry.known_types()}
    return sorted(names) or [DEFAULT_QUEUE]


def run(args: argparse.Namespace) -> int:
    """Work until drained; exit 0 also after a SIGTERM, since running jobs were released."""
    parse_url(args.url)  # a bad URL or job module fails here, before any child is started.
    _webhook_env(args)
    import_job_modules(args)
    queues = args.queues or default_queues()
    if args.workers > 0:
        return supervisor.run_pool(args, queues)
    return run_here(args, queues)


def _webhook_env(args: argparse.Namespace) -> None:
    """Hand the webhook flags to the worker processes (they inherit the environment)."""
    if args.webhook:
        check_webhook_url(args.webhook)
        os.environ[webhook.URL_ENV] = args.webhook
    if args.webhook_timeout:
        os.environ[webhook.TIMEOUT_ENV] = str(args.webhook_timeout)


def run_here(args: argparse.Namespace, queues: list[str]) -> int:
    """``--workers 0``: one worker in this process (no respawn, recycling or cancel kill)."""
    with closing(
        open_store(args, grace_seconds=args.grace, poll_interval_seconds=args.interval)
    ) as store:
        flags = StopFlags()
        with stop_on_signals(flags):
            worker = Worker(
                store,
                queues,
                threads=args.threads,
                burst=args.burst,
                flags=flags,
                options=supervisor.worker_options(args),
            )
            log.info(
                "worker %s: %s, queues %s",
                worker.worker_id,
                mask(store.settings.url),
                ",".join(queues),
            )
            processed = worker.run()
        log.info("worker %s stopped after %d job(s)", worker.worker_id, processed)
    if worker.store_error is not None:  # a burst that could not drain: a cron must know.
        raise BackendError(f"the burst ended early: {worker.store_error}")
    return EXIT_OK
