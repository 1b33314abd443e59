"""``zerog audit``: the operator actions recorded in the store, newest first (zerog.audit)."""

from __future__ import annotations

import argparse
from contextlib import closing

from rich.table import Table
from rich.text import Text

from zerog.audit import MAX_AUDIT_PAGE, AuditQuery
from zerog.cli._common import EXIT_OK, Commands, add_json, add_url, needs_existing_store, open_store
from zerog.cli._flags import add_flag, positive_int
from zerog.cli.output import console, print_json, when

HELP = "list the operator actions recorded (who did what, when, from where), newest first"


def add_parser(commands: Commands) -> None:
    """Register ``audit``."""
    parser = commands.add_parser("audit", help=HELP, description=HELP[0].upper() + HELP[1:])
    add_flag(parser, "--actor", metavar="NAME", help="only this actor's actions")
    add_flag(parser, "--action", metavar="ACTION", help="only this action (cancel, kick, ...)")
    add_flag(parser, "--target", metavar="ID", help="only actions on this job, queue, ...")
    add_flag(parser, "--before", kind=positive_int, metavar="SEQ", help="entries before this one")
    add_flag(parser, "--limit", kind=positive_int, default=50, metavar="N", help="entries at most")
    add_url(parser)
    add_json(parser)
    needs_existing_store(parser)
    parser.set_defaults(handler=show)


def show(args: argparse.Namespace) -> int:
    """Print the entries as a table (or JSON)."""
    query = AuditQuery(
        actor=args.actor,
        action=args.action,
        target=args.target,
        before=args.before,
        limit=min(int(args.limit), MAX_AUDIT_PAGE),
    )
    with closing(open_store(args)) as store:
        entries = store.audit(query)
    if args.json:
        print_json({"entries": entries})
        return EXIT_OK
    table = Table("seq", "time", "actor", "source", "action", "target", "detail")
    for entry in entries:
        table.add_row(
            str(entry["seq"]),
            when(entry["at"]),
            *(Text(str(entry[key] or "")) for key in ("actor", "source", "action", "target")),
            Text(str(entry.get("detail") or "")),
        )
    console().print(table)
    return EXIT_OK
