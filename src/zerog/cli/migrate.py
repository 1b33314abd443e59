"""``zerog migrate``: create a store's tables, or bring them to this zerog's schema version.

Stores are migrated when first opened, so most deployments never run this. It is for a
PostgreSQL schema that the application's role may not change (no CREATE on the schema, not
its owner): run it once per release as a role that may, before the workers start; they then
find the schema at their version. ``--check`` changes nothing and exits 1 when a migration is
due, for a deployment script. Other schemes upgrade themselves when opened: for them this
opens the store once.
"""

from __future__ import annotations

import argparse
from typing import Any

from rich.text import Text

from zerog.backends import backend_class, open_backend
from zerog.cli._common import EXIT_FAILURE, EXIT_OK, Commands, add_json, add_url
from zerog.cli._flags import add_flag
from zerog.cli.output import console, print_json
from zerog.urls import parse_url


def add_parser(commands: Commands) -> None:
    """Register ``zerog migrate``."""
    parser = commands.add_parser(
        "migrate",
        help="create or upgrade a store's tables (PostgreSQL: as a role that may)",
        description="Create a store's tables, or migrate them to this zerog's schema "
        "version, under the store's lock; stores are also migrated when first opened.",
    )
    add_url(parser)
    add_flag(
        parser,
        "--check",
        switch=True,
        env="ZEROG_MIGRATE_CHECK",
        help="change nothing; exit 1 when the store needs a migration",
    )
    add_json(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Migrate (or check) the store; says what it found and what it left."""
    if parse_url(args.url).scheme != "postgresql":
        if args.check:
            return _say(args, {"url": args.url, "due": False}, "upgraded when opened")
        open_backend(args.url).close()  # the store upgrades itself when opened.
        return _say(args, {"url": args.url, "migrated": True}, "opened; up to date")
    backend_class("postgresql")  # a missing driver names the extra to install.
    from zerog.backends import postgres  # needs the driver: imported when used.

    if args.check:
        found = postgres.schema_version(args.url)
        due = found != postgres.SCHEMA_VERSION
        report = {"url": args.url, "version": found, "wanted": postgres.SCHEMA_VERSION, "due": due}
        text = f"schema version {found}, this zerog's {postgres.SCHEMA_VERSION}"
        _say(args, report, text + (": a migration is due" if due else ": up to date"))
        return EXIT_FAILURE if due else EXIT_OK
    done = postgres.migrate_url(args.url)
    report = {"url": args.url, "before": done.before, "after": done.after}
    if done.before is None:
        text = f"created zerog's tables at schema version {done.after}"
    elif done.changed:
        text = f"migrated from schema version {done.before} to {done.after}"
    else:
        text = f"already at schema version {done.after}"
    return _say(args, report, text)


def _say(args: argparse.Namespace, report: dict[str, Any], text: str) -> int:
    if args.json:
        print_json(report)
    else:
        console().print(Text(f"{parse_url(args.url).masked}: {text}"))
    return EXIT_OK
