"""``zerog message UUID JSON``: tell a running job something (see :mod:`zerog.inbox`)."""

from __future__ import annotations

import argparse
import json
import sys
from contextlib import closing
from typing import Any

from rich.text import Text

from zerog.audit import current_actor
from zerog.cli._common import (
    EXIT_OK,
    Commands,
    add_json,
    add_url,
    needs_existing_store,
    open_store,
)
from zerog.cli._flags import add_flag
from zerog.cli.output import console, print_json, state_text
from zerog.errors import ConfigurationError
from zerog.model import State

HELP = "send a message (a JSON value) to a running job, which reads it with job_log.messages()"


def add_parser(commands: Commands) -> None:
    """Register ``message``."""
    parser = commands.add_parser("message", help=HELP, description=HELP[0].upper() + HELP[1:])
    parser.add_argument("uuid", metavar="UUID", help="the job's id (or its last digits)")
    parser.add_argument(
        "body", metavar="JSON", help="the message, as JSON: '{\"rate\": 5}' (-: read stdin)"
    )
    add_flag(
        parser,
        "--queue-if-idle",
        switch=True,
        help="a job that is not running gets the message at its next run (else it is refused)",
    )
    add_url(parser)
    add_json(parser)
    needs_existing_store(parser)
    parser.set_defaults(handler=send)


def parse_body(text: str) -> Any:
    """The message's JSON value; a usage error names what is wrong."""
    try:
        return json.loads(text)
    except ValueError as exc:
        raise ConfigurationError(f"the message is not JSON ({exc}): {text[:80]!r}") from None


def send(args: argparse.Namespace) -> int:
    """Send the message; a refusal (not running, inbox full, too large) is an error."""
    body = parse_body(sys.stdin.read() if args.body == "-" else args.body)
    who = current_actor().label  # user@host (cli): set by the CLI for every command.
    with closing(open_store(args)) as store:
        state = store.message(args.uuid, body, bool(args.queue_if_idle))
    if args.json:
        print_json({"uuid": args.uuid, "state": state, "sender": who})
    elif state == State.RUNNING:
        console().print(Text(f"message sent to job {args.uuid}: it reads it within seconds"))
    else:
        line = Text(f"message kept for job {args.uuid}'s next run; it is ")
        console().print(line.append(state_text(state)))
    return EXIT_OK
