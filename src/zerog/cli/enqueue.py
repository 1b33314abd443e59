"""``zerog enqueue TYPE --data JSON``: validate values with the job class's schema, store the
job and print its uuid. Nothing is stored when the type is unknown, the values are invalid or
they are over the size limit."""

from __future__ import annotations

import argparse
import json
import sys
from contextlib import closing
from pathlib import Path
from typing import Any

from zerog.cli._common import (
    EXIT_OK,
    Commands,
    add_imports,
    add_url,
    import_job_modules,
    open_store,
)
from zerog.cli._flags import add_flag, integer, positive_seconds, seconds
from zerog.errors import ConfigurationError
from zerog.jobs import make_base_job
from zerog.urls import parse_url


def add_parser(commands: Commands) -> None:
    """Register ``zerog enqueue``."""
    parser = commands.add_parser(
        "enqueue",
        help="store a job and print its uuid",
        description="Validate the values with the job class's schema, store the job and print "
        "its uuid.",
    )
    parser.add_argument("type", metavar="TYPE", help="the job type (a job class's JOB_TYPE)")
    add_flag(
        parser,
        "--data",
        default="{}",
        metavar="JSON",
        help="the job's values: a JSON object, @FILE to read it from a file, or - for "
        "standard input",
    )
    add_url(parser)
    add_imports(parser)
    add_flag(
        parser,
        "--priority",
        kind=integer,
        metavar="N",
        help="lower runs sooner (default: the class's PRIORITY)",
    )
    add_flag(
        parser,
        "--delay",
        kind=seconds,
        default=0.0,
        metavar="S",
        help="wait this many seconds before it may run",
    )
    add_flag(
        parser,
        "--ttr",
        kind=positive_seconds,
        metavar="S",
        help="lease seconds, renewed by heartbeats (default: the class's TTR)",
    )
    add_flag(
        parser, "--tag", dest="tags", many=True, metavar="T", help="tag the job; repeat for more"
    )
    add_flag(
        parser,
        "--queue",
        dest="queue",
        env="ZEROG_ENQUEUE_QUEUE",
        metavar="NAME",
        help="put it in this queue (default: the class's QUEUE_NAME)",
    )
    add_flag(
        parser,
        "--fair-key",
        dest="fair_key",
        env="ZEROG_ENQUEUE_FAIR_KEY",
        metavar="KEY",
        help="its tenant: a queue's keys take turns (default: the class's FAIR_KEY)",
    )
    parser.set_defaults(handler=run)


def read_values(data: str) -> Any:
    """The ``--data`` text as JSON: inline, ``@file`` or ``-`` (standard input)."""
    if data == "-":
        text, where = sys.stdin.read(), "standard input"
    elif data.startswith("@"):
        try:
            text, where = Path(data[1:]).read_text(encoding="utf-8"), data[1:]
        except OSError as exc:
            raise ConfigurationError(f"--data {data}: cannot read: {exc.strerror}") from None
    else:
        text, where = data, "--data"
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigurationError(f"{where} is not valid JSON: {exc}") from None


def run(args: argparse.Namespace) -> int:
    """Validate, store, print the uuid. A bad URL is reported before bad values: it is the
    configuration error (exit 2) that would fail every other command too."""
    parse_url(args.url)
    import_job_modules(args)
    values = read_values(args.data)
    job = make_base_job(values, args.type)
    with closing(open_store(args)) as store:
        uuid = job.enqueue(
            priority=args.priority,
            delay=args.delay,
            ttr=args.ttr,
            tags=tuple(args.tags or ()),
            queue=args.queue or None,
            store=store,
            fair_key=args.fair_key or None,
        )
    sys.stdout.write(uuid + "\n")
    return EXIT_OK
