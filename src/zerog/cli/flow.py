"""Steering the flow of work: ``priority``, ``move``, ``tag``, ``untag``, ``timeout``,
``recurring``, ``unrecur``, ``limit`` and ``stats``. Each prints a line or a table, or JSON
with ``--json``; a refused change exits 1 with one line saying why, and changes nothing."""

from __future__ import annotations

import argparse
from collections.abc import Callable
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
from zerog.cli._flags import add_flag
from zerog.cli.output import console, print_json, when
from zerog.model import Change
from zerog.store import Store

Handler = Callable[[argparse.Namespace], int]


def add_parsers(commands: Commands) -> None:
    """Register the flow commands."""
    _job_command(
        commands, "priority", "change a queued job's priority (lower runs sooner)", _priority
    )
    _job_command(commands, "move", "move a queued job to another queue", _move)
    _job_command(commands, "tag", "add tags to a job", _tag)
    _job_command(commands, "untag", "remove tags from a job", _untag)
    _job_command(commands, "timeout", "end a running job's lease now (it is rescued)", _timeout)
    parser = _command(commands, "recurring", "list the recurring jobs", _recurring)
    needs_existing_store(parser)
    add_flag(parser, "--queue", env="ZEROG_RECURRING_QUEUE", help="only this queue's")
    parser = _command(commands, "unrecur", "stop a recurring job (spawned jobs stay)", _unrecur)
    parser.add_argument("id", metavar="ID")
    parser = _command(
        commands, "limit", "show or set how many jobs of a limit may run at once", _limit
    )
    parser.add_argument("name", metavar="NAME", nargs="?", help="queue:<queue> or a throttle")
    parser.add_argument("maximum", metavar="N", nargs="?", type=int)
    add_flag(parser, "--unset", switch=True, help="remove the limit NAME")
    parser = _command(commands, "stats", "a queue's statistics for today (UTC)", _stats)
    needs_existing_store(parser)
    parser.add_argument("queue", metavar="QUEUE")


def _command(commands: Commands, name: str, text: str, handler: Handler) -> argparse.ArgumentParser:
    parser = commands.add_parser(name, help=text, description=text[0].upper() + text[1:] + ".")
    add_url(parser)
    add_json(parser)
    parser.set_defaults(handler=handler)
    return parser


def _job_command(commands: Commands, name: str, text: str, handler: Handler) -> None:
    parser = _command(commands, name, text, handler)
    parser.add_argument("uuid", metavar="UUID", help="the job's uuid, or its last digits")
    needs_existing_store(parser)
    if name == "priority":
        parser.add_argument("value", metavar="N", type=int)
    elif name == "move":
        parser.add_argument("value", metavar="QUEUE")
    elif name in ("tag", "untag"):
        parser.add_argument("value", metavar="TAG", nargs="+")


def _changed(args: argparse.Namespace, change: Callable[[Store], dict[str, Any]]) -> int:
    with closing(open_store(args)) as store:
        record = change(store)
    if args.json:
        print_json(record)
    else:
        console().print(
            Text(
                f"job {record['uuid']}: {record['state']} in {record['queue']}, "
                f"priority {record['priority']}, tags {', '.join(record['tags']) or '-'}"
            )
        )
    return EXIT_OK


def _priority(args: argparse.Namespace) -> int:
    return _changed(args, lambda store: store.alter(args.uuid, Change(priority=args.value)))


def _move(args: argparse.Namespace) -> int:
    return _changed(args, lambda store: store.alter(args.uuid, Change(queue=args.value)))


def _tag(args: argparse.Namespace) -> int:
    return _changed(args, lambda store: store.alter(args.uuid, Change(add_tags=args.value)))


def _untag(args: argparse.Namespace) -> int:
    return _changed(args, lambda store: store.alter(args.uuid, Change(remove_tags=args.value)))


def _say(args: argparse.Namespace, doc: dict[str, Any], line: str) -> None:
    """``doc`` as JSON with ``--json``, else ``line``."""
    if args.json:
        print_json(doc)
    else:
        console().print(Text(line))


def _timeout(args: argparse.Namespace) -> int:
    with closing(open_store(args)) as store:
        state = store.timeout(args.uuid)
    _say(args, {"uuid": args.uuid, "state": state}, f"job {args.uuid} timed out: it is {state} now")
    return EXIT_OK


def _recurring(args: argparse.Namespace) -> int:
    with closing(open_store(args)) as store:
        found = store.recurrences(args.queue)
    if args.json:
        print_json({"recurring": found})
        return EXIT_OK
    table = Table(
        "id", "queue", "type", "schedule", "next", "spawned", title=f"{len(found)} recurring job(s)"
    )
    for doc in found:
        schedule = doc["cron"] or f"every {doc['interval_seconds']:g} s"
        table.add_row(
            Text(doc["id"]),
            Text(doc["queue"]),
            Text(doc["type"]),
            Text(schedule),
            when(doc["next_at"]),
            str(doc["count"]),
        )
    console().print(table)
    return EXIT_OK


def _unrecur(args: argparse.Namespace) -> int:
    with closing(open_store(args)) as store:
        removed = store.unrecur(args.id)
    line = f"recurring job {args.id} {'stopped' if removed else 'not found'}"
    _say(args, {"id": args.id, "removed": removed}, line)
    return EXIT_OK if removed else 1


def _limit(args: argparse.Namespace) -> int:
    with closing(open_store(args)) as store:
        if args.name is not None and (args.unset or args.maximum is not None):
            store.set_limit(args.name, None if args.unset else args.maximum)
        limits: dict[str, int | None] = dict(store.limits())
    if args.name is not None:
        limits = {args.name: limits.get(args.name)}
    if args.json:
        print_json({"limits": limits})
        return EXIT_OK
    for name, maximum in sorted(limits.items()):
        console().print(Text(f"{name}: {'no limit' if maximum is None else maximum}"))
    return EXIT_OK


def _stats(args: argparse.Namespace) -> int:
    with closing(open_store(args)) as store:
        summary = store.queue_stats(args.queue)
    if args.json:
        print_json(summary)
        return EXIT_OK
    table = Table("", "count", "mean s", "std s", title=f"{args.queue} today (UTC)")
    for name in ("wait", "run"):
        part = summary[name]
        table.add_row(name, str(part["count"]), f"{part['mean']:.3f}", f"{part['std']:.3f}")
    console().print(table)
    console().print(Text(f"failures {summary['failures']}, retries {summary['retries']}"))
    return EXIT_OK
