"""Looking at jobs and steering them: ``jobs``, ``job``, ``queues``, ``retry``, ``cancel``,
``pause``, ``resume``, ``kick`` and ``config``. Every reader prints a table, or JSON with
``--json``."""

from __future__ import annotations

import argparse
import dataclasses
import json
from contextlib import closing
from typing import Any

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text

from zerog import config as configuration
from zerog.cli import _job_view, follow, tables
from zerog.cli._common import (
    EXIT_OK,
    Commands,
    add_json,
    add_url,
    needs_existing_store,
    open_store,
    settings_of,
)
from zerog.cli._flags import add_flag, positive_int, positive_seconds
from zerog.cli._watch import add_watch, watch
from zerog.cli.output import console, print_json, state_text
from zerog.errors import ConfigurationError, JobNotFound, NotSupported
from zerog.model import ALL_STATES, Page, State
from zerog.store import Store
from zerog.urls import mask

ACTIONS = {
    "retry": "run a failed, cancelled or expired job again, with its full retries",
    "cancel": "cancel a job (a running one stops at its next heartbeat)",
    "pause": "pause a job (a running one saves its checkpoint and stops)",
    "resume": "put a paused job back in its queue",
    "delete": "delete a finished job and its history",
}
STATE_NAMES = [state.value for state in ALL_STATES]
ID_HELP = "the job's uuid, or its last digits as the tables show them (or a unique prefix)"


def add_parsers(commands: Commands) -> None:
    """Register the reading and steering commands."""
    _add_jobs(commands)
    parser = commands.add_parser(
        "job",
        help="show one job",
        description="A job's state, progress, ETA, log, errors and history.",
    )
    parser.add_argument("uuid", metavar="UUID", help=ID_HELP)
    add_url(parser)
    add_json(parser)
    needs_existing_store(parser)
    add_flag(
        parser,
        "--follow",
        "-f",
        switch=True,
        env="ZEROG_FOLLOW",
        help="watch the job until it ends: state changes, new log lines, a live progress bar "
        "(with --json: one JSON line per change); exits 0 if it completed, else 1",
    )
    add_flag(
        parser,
        "--interval",
        kind=positive_seconds,
        default=follow.DEFAULT_INTERVAL_SECONDS,
        env="ZEROG_FOLLOW_INTERVAL",
        metavar="S",
        help="with --follow: read the job every S seconds",
    )
    parser.set_defaults(handler=show_job)
    parser = commands.add_parser("queues", help="count jobs per state in each queue")
    add_url(parser)
    add_json(parser)
    add_watch(parser, "queues")
    needs_existing_store(parser)
    parser.set_defaults(handler=show_queues)
    for action, text in ACTIONS.items():
        parser = commands.add_parser(action, help=text, description=text[0].upper() + text[1:])
        parser.add_argument("uuid", metavar="UUID", help=ID_HELP)
        add_url(parser)
        add_json(parser)
        needs_existing_store(parser)
        parser.set_defaults(handler=act, action=action)
    _add_kick(commands)
    parser = commands.add_parser(
        "config",
        help="show the settings in force; read or set the store's shared config",
        description=(
            "Without KEY: this process's settings and the store's shared config (qless's keys: "
            "heartbeat, <queue>-heartbeat, jobs-history, jobs-history-count, stats-history, "
            "histogram-history, max-job-history, stall-seconds, <queue>-stall-seconds; and "
            "zerog's stall-policy, <queue>-stall-policy, webhook-url). "
            "With KEY: its value. With KEY VALUE: set it "
            "for every process (VALUE is JSON, else a string). Unsetting KEY brings its "
            "default back."
        ),
    )
    parser.add_argument("key", metavar="KEY", nargs="?")
    parser.add_argument("value", metavar="VALUE", nargs="?")
    add_flag(parser, "--unset", switch=True, help="unset KEY (its default applies again)")
    add_url(parser)
    add_json(parser)
    parser.set_defaults(handler=show_config)


def _add_jobs(commands: Commands) -> None:
    parser = commands.add_parser(
        "jobs",
        help="list jobs, newest first",
        description="List jobs, newest first, a page at a time.",
    )
    add_url(parser)
    # Filters read ZEROG_JOBS_*: a plain ZEROG_QUEUE or ZEROG_TAG means the worker's queues
    # and enqueue's tags, and must not silently filter listings.
    add_flag(
        parser,
        "--state",
        env="ZEROG_JOBS_STATE",
        kind=_state,
        help=f"only jobs in this state ({', '.join(STATE_NAMES)})",
    )
    add_flag(parser, "--queue", env="ZEROG_JOBS_QUEUE", help="only jobs of this queue")
    add_flag(parser, "--type", env="ZEROG_JOBS_TYPE", help="only jobs of this type")
    add_flag(parser, "--tag", env="ZEROG_JOBS_TAG", help="only jobs with this tag")
    add_flag(
        parser,
        "--worker",
        env="ZEROG_JOBS_WORKER",
        help="only jobs this worker holds or last held (an id `zerog workers` shows)",
    )
    add_flag(
        parser,
        "--limit",
        env="ZEROG_JOBS_LIMIT",
        kind=positive_int,
        default=50,
        metavar="N",
        help="at most N jobs (at most 500)",
    )
    add_flag(
        parser,
        "--cursor",
        env="ZEROG_JOBS_CURSOR",
        help="the page after this cursor (printed under the previous page)",
    )
    add_flag(
        parser,
        "--stalled",
        switch=True,
        env="ZEROG_JOBS_STALLED",
        help="only running jobs that made no progress for longer than their stall threshold "
        "(config stall-seconds, default 900), longest stuck first; all of them, in one page",
    )
    add_json(parser)
    add_watch(parser, "jobs")
    needs_existing_store(parser)
    parser.set_defaults(handler=list_jobs)


def _add_kick(commands: Commands) -> None:
    parser = commands.add_parser(
        "kick",
        help="retry the failed jobs of a queue",
        description="Retry up to N failed jobs of a queue, oldest failure first.",
    )
    parser.add_argument("queue", metavar="QUEUE")
    parser.add_argument(
        "count", metavar="N", nargs="?", type=positive_int, default=1, help="how many (default: 1)"
    )
    add_url(parser)
    add_json(parser)
    needs_existing_store(parser)
    parser.set_defaults(handler=kick)


def _state(text: str) -> str:
    if text not in STATE_NAMES:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a state; one of {', '.join(STATE_NAMES)}"
        )
    return text


# --- handlers ------------------------------------------------------------------------------


def list_jobs(args: argparse.Namespace) -> int:
    """``zerog jobs``: a table that fits the terminal (ids by their last digits), or JSON."""
    with closing(open_store(args)) as store:

        def read() -> tuple[Page, float]:
            page = _stalled_page(store, args) if args.stalled else _page(store, args)
            return page, store.clock()

        if args.json:
            page, _now = read()
            print_json({"jobs": page.records, "cursor": page.cursor})
            return EXIT_OK
        out = console()
        if args.watch:
            return watch(lambda: _jobs_output(*read(), out.width), float(args.every), out)
        out.print(_jobs_output(*read(), out.width))
    return EXIT_OK


def _jobs_output(page: Page, now: float, width: int) -> RenderableType:
    out = tables.jobs_table(page.records, now, width)
    if page.cursor:
        out.caption = f"more: --cursor {page.cursor}"
        out.caption_justify = "left"
    return out


def _page(store: Store, args: argparse.Namespace) -> Page:
    page = store.list(
        state=args.state,
        queue=args.queue,
        type=args.type,
        tag=args.tag,
        worker=args.worker,
        limit=args.limit,
        cursor=args.cursor,
    )
    return Page([store.shown(record) for record in page.records], page.cursor)


def _stalled_page(store: Store, args: argparse.Namespace) -> Page:
    """The stalled jobs, with the other filters applied to them."""
    if args.state not in (None, State.RUNNING.value) or args.cursor:
        raise ConfigurationError("--stalled lists running jobs in one page: no --state, --cursor")
    wanted = {"type": args.type, "worker": args.worker}
    found = [
        record
        for record in store.stalled(args.queue)
        if all(value is None or record.get(key) == value for key, value in wanted.items())
        and (args.tag is None or args.tag in (record.get("tags") or ()))
    ]
    return Page(found, None)


def show_job(args: argparse.Namespace) -> int:
    """``zerog job UUID``."""
    with closing(open_store(args)) as store:
        if args.follow:
            return follow.follow(
                lambda: store.get(args.uuid, history=False),
                console(),
                as_json=bool(args.json),
                interval_seconds=float(args.interval),
            )
        record = store.get(args.uuid, history=True)
    if args.json:
        print_json(record)
    else:
        _job_view.show(console(), record)
    return EXIT_OK


def show_queues(args: argparse.Namespace) -> int:
    """``zerog queues``: counts per state, and which queues are paused."""
    with closing(open_store(args)) as store:
        if args.json:
            print_json({"queues": queue_list(store)})
            return EXIT_OK

        def draw() -> Table:
            return tables.queues_table(queue_list(store), STATE_NAMES)

        if args.watch:
            return watch(draw, float(args.every), console())
        console().print(draw())
    return EXIT_OK


def queue_list(store: Store) -> list[dict[str, Any]]:
    """Every queue that holds jobs or is paused, with its counts per state."""
    counts = store.counts()
    try:
        paused = store.paused_queues()
    except NotSupported:
        paused = frozenset()
    return [
        {
            "name": name,
            "counts": {s: counts.get(name, {}).get(s, 0) for s in STATE_NAMES},
            "paused": name in paused,
        }
        for name in sorted(set(counts) | paused)
    ]


def act(args: argparse.Namespace) -> int:
    """``zerog retry|cancel|pause|resume|delete UUID``; a forbidden move is
    InvalidTransition."""
    if args.action == "delete":
        return delete(args)
    with closing(open_store(args)) as store:
        state = store.act(args.uuid, args.action)
    requested = state == "running"  # a running job is asked; it settles itself.
    if args.json:
        print_json(
            {"uuid": args.uuid, "action": args.action, "state": state, "requested": requested}
        )
    elif requested:
        console().print(
            Text(
                f"{args.action} requested: job {args.uuid} is running and will "
                f"act on it at its next heartbeat"
            )
        )
    else:
        console().print(Text(f"job {args.uuid} is now ").append(state_text(state)))
    return EXIT_OK


def delete(args: argparse.Namespace) -> int:
    """``zerog delete UUID``: a finished job and its history go."""
    with closing(open_store(args)) as store:
        if not store.delete(args.uuid):
            raise JobNotFound(args.uuid)
    if args.json:
        print_json({"uuid": args.uuid, "deleted": True})
    else:
        console().print(Text(f"job {args.uuid} deleted"))
    return EXIT_OK


def kick(args: argparse.Namespace) -> int:
    """``zerog kick QUEUE [N]``."""
    with closing(open_store(args)) as store:
        count = store.kick(args.queue, args.count)
    if args.json:
        print_json({"queue": args.queue, "kicked": count})
    else:
        console().print(Text(f"kicked {count} failed job(s) of queue {args.queue!r}"))
    return EXIT_OK


def show_config(args: argparse.Namespace) -> int:
    """``zerog config [KEY [VALUE]] [--unset]``: the settings in force (the URL's password
    masked) and the store's shared config; or one key of it, read or set."""
    if args.key is not None:
        return _store_config(args)
    settings = dataclasses.asdict(settings_of(args))
    settings["url"] = mask(settings["url"])
    with closing(open_store(args)) as store:
        shared = configuration.effective(store.config(fresh=True))
    if args.json:
        print_json({**settings, "store": shared})
        return EXIT_OK
    table = Table(
        "setting", "value", "environment variable", title="settings in force", title_justify="left"
    )
    for name, value in settings.items():
        table.add_row(name, Text(str(value)), f"ZEROG_{name.upper()}")
    console().print(table)
    table = Table("key", "value", title="the store's shared config", title_justify="left")
    for key, value in shared.items():
        table.add_row(key, Text(json.dumps(value)))
    console().print(table)
    return EXIT_OK


def _store_config(args: argparse.Namespace) -> int:
    with closing(open_store(args)) as store:
        if args.unset or args.value is not None:
            store.set_config(args.key, None if args.unset else _json_or_text(args.value))
        value = configuration.effective(store.config(fresh=True)).get(args.key)
    if args.json:
        print_json({args.key: value})
    else:
        console().print(Text(f"{args.key} = {json.dumps(value)}"))
    return EXIT_OK


def _json_or_text(raw: str) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return raw
