"""The ``zerog`` command (also ``python -m zerog``).

Each subcommand lives in its own module and registers its parser here. :func:`main` owns the
exit codes: 0 ok, 1 failure, 2 usage or configuration error. Every error ends as ONE line on
stderr (no traceback), with any password in a URL masked.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from zerog import __version__
from zerog.audit import Actor, acting, local_user
from zerog.cli import (
    audit,
    batches,
    enqueue,
    flow,
    inspect,
    message,
    migrate,
    queue,
    rates,
    serve,
    worker,
    workers,
)
from zerog.cli._common import EXIT_FAILURE, EXIT_OK, EXIT_USAGE, Commands, add_url
from zerog.cli._flags import add_flag, apply_env, factor
from zerog.demo_dashboard import DEFAULT_PORT as DEMO_PORT
from zerog.errors import ConfigurationError, JobValidationError, UnknownJobType, ZerogError
from zerog.logs import LOG_FORMAT, OneLineFormatter
from zerog.urls import mask

__all__ = ["EXIT_FAILURE", "EXIT_OK", "EXIT_USAGE", "build_parser", "main"]

PROG = "zerog"


def build_parser() -> argparse.ArgumentParser:
    """The whole command line."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="zerog: background jobs built for long-running work.",
        epilog="Every flag can also be set by the environment variable shown in its help; "
        "a repeatable flag takes a comma-separated list there (ZEROG_PATH: separated by "
        f"'{os.pathsep}'). The command line wins over the environment.",
    )
    parser.add_argument("--version", action="version", version=f"zerog {__version__}")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)
    worker.add_parser(commands)
    workers.add_parser(commands)
    enqueue.add_parser(commands)
    inspect.add_parsers(commands)
    message.add_parser(commands)
    audit.add_parser(commands)
    queue.add_parser(commands)
    flow.add_parsers(commands)
    batches.add_parser(commands)
    rates.add_parser(commands)
    serve.add_parser(commands)
    migrate.add_parser(commands)
    _add_demo(commands)
    return parser


def _add_demo(commands: Commands) -> None:
    parser = commands.add_parser(
        "demo",
        help="the quickstart: example long jobs with live progress",
        description="Run example long jobs on two worker processes over an embedded SQLite "
        "store, with live progress bars, then print a summary.",
    )
    # ZEROG_DEMO_URL, not ZEROG_URL: the demo must not fill a store you set up for real work.
    add_url(parser, env="ZEROG_DEMO_URL", default=None)
    add_flag(
        parser,
        "--keep",
        switch=True,
        env="ZEROG_DEMO_KEEP",
        help="keep the demo's directory (database and worker logs) afterwards",
    )
    add_flag(
        parser,
        "--speed",
        kind=factor,
        default=1.0,
        env="ZEROG_DEMO_SPEED",
        metavar="X",
        help="run the example jobs X times faster",
    )
    add_flag(
        parser,
        "--port",
        kind=serve.port,
        default=DEMO_PORT,
        env="ZEROG_DEMO_PORT",
        metavar="N",
        help="serve the dashboard on 127.0.0.1:N while the demo runs (a free port if taken)",
    )
    add_flag(
        parser,
        "--stay",
        switch=True,
        env="ZEROG_DEMO_STAY",
        help="keep the dashboard up after the jobs end, until Ctrl-C",
    )
    parser.set_defaults(handler=_run_demo)


def _run_demo(args: argparse.Namespace) -> int:
    from zerog import demo  # only the demo needs the example jobs and live display.

    options = demo.DemoOptions(
        url=args.url,
        keep=bool(args.keep),
        speed=float(args.speed),
        port=int(args.port),
        stay=bool(args.stay),
    )
    return demo.run_demo(options)


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    """Run one command; returns its exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    args.argv = argv  # the supervisor gives its children the same command line.
    args.environ = os.environ if environ is None else environ
    try:
        apply_env(args, args.environ)
        _configure_logging(args)
        with acting(Actor(local_user(), "cli")):  # what the command changes is audited as so.
            return int(args.handler(args))
    except ConfigurationError as exc:
        return _fail(args, str(exc), EXIT_USAGE)
    except JobValidationError as exc:
        return _fail(args, validation_message(exc), EXIT_FAILURE)
    except UnknownJobType as exc:
        hint = "" if getattr(args, "imports", None) else " (load job classes with --import MOD)"
        return _fail(args, f"{exc}{hint}", EXIT_FAILURE)
    except ZerogError as exc:
        return _fail(args, str(exc), EXIT_FAILURE)
    except OSError as exc:
        return _fail(args, f"{type(exc).__name__}: {exc}", EXIT_FAILURE)
    except KeyboardInterrupt:
        return _fail(args, "interrupted", EXIT_FAILURE)


def _configure_logging(args: argparse.Namespace) -> None:
    level = (
        logging.DEBUG
        if getattr(args, "verbose", False)
        else getattr(args, "log_level", logging.WARNING)
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(OneLineFormatter(LOG_FORMAT))
    logging.basicConfig(level=level, handlers=[handler])


def validation_message(exc: JobValidationError) -> str:
    """Every field's messages on one line: ``invalid values for 'x': a: msg; b: msg``."""
    what = f"invalid values for {exc.job_type!r}" if exc.job_type else "invalid values"
    messages = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
    parts = [f"{field}: {_messages(msgs)}" for field, msgs in sorted(messages.items())]
    return f"{what}: " + "; ".join(parts)


def _messages(value: Any) -> str:
    if isinstance(value, list):
        return " ".join(_messages(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_messages(v)}" for k, v in value.items())
    return str(value)


def _fail(args: argparse.Namespace, message: str, code: int) -> int:
    """One line on stderr, the URL's password masked."""
    url = getattr(args, "url", None)
    if url:
        message = message.replace(url, mask(url))
    line = " ".join(message.split())
    sys.stderr.write(f"{PROG}: error: {line}\n")
    return code
