"""What every command shares: exit codes, the store a command opens, job-module imports."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any, TypeAlias
from urllib.parse import unquote

from zerog import registry
from zerog.backends import open_backend
from zerog.cli._flags import add_flag
from zerog.errors import ConfigurationError
from zerog.settings import DEFAULT_URL, Settings
from zerog.store import Store
from zerog.urls import parse_url

EXIT_OK = 0  # the command did what it was asked.
EXIT_FAILURE = 1  # it could not: bad job values, unknown job, a refused action, a backend error.
EXIT_USAGE = 2  # a bad flag, environment variable or URL: nothing was attempted.

Commands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"
"""What ``add_subparsers`` returns; each command module adds its parser to it."""


def add_url(
    parser: argparse.ArgumentParser, env: str | None = None, default: str | None = DEFAULT_URL
) -> None:
    """The backend URL flag."""
    add_flag(
        parser,
        "--url",
        default=default,
        env=env,
        metavar="URL",
        help="backend URL: sqlite:///path.db, memory://, ...",
    )


def add_imports(parser: argparse.ArgumentParser) -> None:
    """``--import MOD`` (job modules) and ``--path DIR`` (where to find them)."""
    add_flag(
        parser,
        "--import",
        dest="imports",
        many=True,
        metavar="MOD",
        help="import this module of job classes first; repeat for more",
    )
    add_flag(
        parser,
        "--path",
        dest="paths",
        many=True,
        metavar="DIR",
        sep=os.pathsep,
        default=["."],
        help="look for job modules in DIR too; repeat for more",
    )


def add_json(parser: argparse.ArgumentParser) -> None:
    """``--json``: print JSON instead of tables."""
    add_flag(parser, "--json", switch=True, help="print JSON instead of a table")


def settings_of(args: argparse.Namespace, **overrides: Any) -> Settings:
    """Settings from the environment, with the command's flags on top."""
    environ = getattr(args, "environ", os.environ)
    return Settings.from_env(environ, url=args.url, **overrides)


def open_store(args: argparse.Namespace, **overrides: Any) -> Store:
    """The store the command's ``--url`` names (the caller closes it).

    A command about jobs that exist (``existing_store`` set by its parser) refuses a SQLite
    file that is not there, instead of creating an empty store and finding nothing: a typo
    in a path, or a command run in the wrong directory, says so. A command given a job id
    (``args.uuid``) gets it resolved: a short id (the last digits the tables and the
    dashboard show, or a unique prefix) becomes the job's uuid."""
    settings = settings_of(args, **overrides)
    if getattr(args, "existing_store", False):
        require_existing(settings.url)
    store = Store(open_backend(settings.url), settings)
    if getattr(args, "uuid", None):
        try:
            args.uuid = store.resolve_id(args.uuid)
        except BaseException:
            store.close()
            raise
    return store


def require_existing(url: str) -> None:
    """ConfigurationError when ``url`` names a SQLite file that does not exist."""
    parsed = parse_url(url)
    if parsed.scheme != "sqlite" or parsed.host or not parsed.path.startswith("/"):
        return  # a server, memory://, or a URL the backend will refuse with its own words.
    path = unquote(parsed.path[1:])
    if path and path != ":memory:" and not os.path.exists(path):
        raise ConfigurationError(
            f"no store at {os.path.abspath(path)} (from {url}): nothing was created; give "
            "--url (or ZEROG_URL) of the store your workers use"
        )


def needs_existing_store(parser: argparse.ArgumentParser) -> None:
    """Mark a command that reads or steers existing jobs (see :func:`open_store`)."""
    parser.set_defaults(existing_store=True)


def import_job_modules(args: argparse.Namespace) -> None:
    """Make ``--path`` importable, then import ``JOB_MODULES`` and ``--import`` modules."""
    for path in reversed(args.paths or []):
        full = os.path.abspath(path)
        if full not in sys.path:
            sys.path.insert(0, full)
    registry.import_job_modules(tuple(args.imports or ()))
