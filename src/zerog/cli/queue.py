"""``zerog queue pause|resume NAME``: stop and restart reserving from a queue.

A paused queue keeps its jobs, and running ones go on; workers take nothing more from it
until it is resumed. ``zerog queues`` shows which queues are paused.
"""

from __future__ import annotations

import argparse
from contextlib import closing

from rich.text import Text

from zerog.cli._common import EXIT_OK, Commands, add_json, add_url, open_store
from zerog.cli.output import console, print_json

QUEUE_ACTIONS = {
    "pause": "workers take no more jobs from the queue (its jobs stay; running ones go on)",
    "resume": "workers take jobs from the queue again",
}


def add_parser(commands: Commands) -> None:
    """Register ``zerog queue``."""
    parser = commands.add_parser(
        "queue",
        help="pause or resume a queue",
        description="Pause or resume a queue: "
        + "; ".join(f"{action}: {text}" for action, text in QUEUE_ACTIONS.items())
        + ".",
    )
    parser.add_argument("action", choices=sorted(QUEUE_ACTIONS), metavar="pause|resume")
    parser.add_argument("name", metavar="NAME", help="the queue")
    add_url(parser)
    add_json(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Pause or resume the queue; idempotent, and a queue with no job yet may be paused."""
    paused = args.action == "pause"
    with closing(open_store(args)) as store:
        if paused:
            store.pause_queue(args.name)
        else:
            store.resume_queue(args.name)
    if args.json:
        print_json({"queue": args.name, "paused": paused})
    else:
        console().print(Text(f"queue {args.name!r} {'paused' if paused else 'resumed'}"))
    return EXIT_OK
