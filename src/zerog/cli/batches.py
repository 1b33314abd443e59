"""``zerog batch ID``: a batch's progress as a whole, its callback, and how each member ended
(``--json`` for all of it, members included)."""

from __future__ import annotations

import argparse
from contextlib import closing
from typing import Any

from rich.table import Table
from rich.text import Text

from zerog.cli._common import (
    EXIT_OK,
    Commands,
    add_json,
    add_url,
    needs_existing_store,
    open_store,
)
from zerog.cli.output import console, percent, print_json, state_text

SHOWN_MEMBERS = 20  # the table lists this many members not yet ended; --json lists all.


def add_parser(commands: Commands) -> None:
    """Register ``batch``."""
    text = "a batch's progress: its members by state and its callback"
    parser = commands.add_parser("batch", help=text, description=text[0].upper() + text[1:] + ".")
    add_url(parser)
    add_json(parser)
    needs_existing_store(parser)
    parser.add_argument("id", metavar="ID", help="the batch's id (its callback's uuid)")
    parser.set_defaults(handler=_batch)


def _batch(args: argparse.Namespace) -> int:
    with closing(open_store(args)) as store:
        progress = store.batch(store.resolve_id(args.id))
    if args.json:
        print_json(progress)
        return EXIT_OK
    out = console()
    callback = progress["callback"]
    out.print(
        Text.assemble(
            f"batch {progress['id']}: {progress['ended']} of {progress['total']} ended, "
            f"{percent(progress['completeness'])} done; callback {callback['type']} ",
            state_text(callback["state"]),
        )
    )
    out.print(_counts(progress["counts"]))
    left = [(u, s) for u, s in progress["members"].items() if s not in _ENDED][:SHOWN_MEMBERS]
    if left:
        out.print(Text(f"members not ended yet (first {len(left)}):"))
        for uuid, state in left:
            out.print(Text.assemble(f"  {uuid} ", state_text(state)))
    return EXIT_OK


_ENDED = frozenset({"complete", "failed", "cancelled", "expired", "deleted"})


def _counts(counts: dict[str, Any]) -> Table:
    table = Table("state", "members", box=None)
    for state, count in sorted(counts.items()):
        table.add_row(state_text(state), str(count))
    return table
