"""Flags that can also come from the environment: ``--threads`` is also ``ZEROG_THREADS``.

argparse knows nothing of the environment, so each flag is added with a default of None and
recorded here; after parsing, :func:`apply_env` fills what the command line left unset from
``ZEROG_<FLAG>`` and then from the flag's own default. The precedence is the one STYLE.md
fixes: command line > environment > default. ``--help`` names the variable of every flag.

Repeatable flags (``-q``, ``--import``, ``--tag``) read a comma-separated list; switches
(``--burst``) read 1/true/yes/on or 0/false/no/off. A bad value names its variable.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from zerog.errors import ConfigurationError

ENV_PREFIX = "ZEROG_"
TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off"})
N = TypeVar("N", int, float)
_REGISTRY = "_env_flags"  # the argparse default that holds each parser's flags.


@dataclass(frozen=True)
class EnvFlag:
    """One flag's link to its environment variable."""

    dest: str
    env: str
    convert: Callable[[str], Any]
    many: bool
    switch: bool
    sep: str
    default: Any


def env_name(flag: str) -> str:
    """``--max-retries`` → ``ZEROG_MAX_RETRIES``."""
    return ENV_PREFIX + flag.lstrip("-").replace("-", "_").upper()


def add_flag(
    parser: argparse.ArgumentParser,
    *names: str,
    help: str,
    kind: Callable[[str], Any] = str,
    many: bool = False,
    switch: bool = False,
    default: Any = None,
    env: str | None = None,
    sep: str = ",",
    dest: str | None = None,
    metavar: str | None = None,
) -> None:
    """Add a flag whose value may also come from ``ZEROG_<FLAG>`` (or ``env``)."""
    long_name = next(n for n in names if n.startswith("--"))
    variable = env or env_name(long_name)
    shown = f" (default: {_show(default)})" if default not in (None, False, []) else ""
    text = f"{help}{shown} [env: {variable}]"
    if switch:
        action = parser.add_argument(
            *names, action="store_true", default=None, help=text, dest=dest
        )
    else:
        action = parser.add_argument(
            *names,
            type=kind,
            default=None,
            help=text,
            dest=dest,
            action="append" if many else "store",
            metavar=metavar,
        )
    _flags_of(parser).append(
        EnvFlag(
            dest=action.dest,
            env=variable,
            convert=kind,
            many=many,
            switch=switch,
            sep=sep,
            default=default,
        )
    )


def _show(default: Any) -> str:
    if isinstance(default, list | tuple):
        return ", ".join(str(d) for d in default)
    return str(default)


def _flags_of(parser: argparse.ArgumentParser) -> list[EnvFlag]:
    flags: list[EnvFlag] | None = parser.get_default(_REGISTRY)
    if flags is None:
        flags = []
        parser.set_defaults(**{_REGISTRY: flags})
    return flags


def apply_env(args: argparse.Namespace, environ: Mapping[str, str]) -> None:
    """Fill the flags the command line left unset: environment first, then defaults."""
    for flag in getattr(args, _REGISTRY, None) or []:
        if getattr(args, flag.dest) is not None:
            continue
        raw = environ.get(flag.env)
        value = flag.default if raw is None or raw.strip() == "" else _from_env(flag, raw)
        setattr(args, flag.dest, list(value) if isinstance(value, list | tuple) else value)


def _from_env(flag: EnvFlag, raw: str) -> Any:
    try:
        if flag.switch:
            return _switch(raw)
        if flag.many:
            return [flag.convert(part.strip()) for part in raw.split(flag.sep) if part.strip()]
        return flag.convert(raw.strip())
    except (argparse.ArgumentTypeError, ValueError) as exc:
        raise ConfigurationError(f"{flag.env}={raw!r} is invalid: {exc}") from None


def _switch(raw: str) -> bool:
    word = raw.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ValueError(f"expected one of {', '.join(sorted(TRUE_WORDS | FALSE_WORDS))}")


# --- value types (argparse calls them with the flag's text) ---------------------------------


def positive_int(text: str) -> int:
    """An integer >= 1."""
    value = _number(int, text, "an integer")
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {text!r}")
    return value


def integer(text: str) -> int:
    """Any integer (priorities may be negative)."""
    return _number(int, text, "an integer")


def seconds(text: str) -> float:
    """A duration in seconds, >= 0."""
    value = _number(float, text, "a number of seconds")
    if value < 0 or value != value or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0, not {text!r}")
    return value


def positive_seconds(text: str) -> float:
    """A duration in seconds, > 0."""
    value = seconds(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be > 0, not {text!r}")
    return value


def factor(text: str) -> float:
    """A finite number > 0 (a speed-up)."""
    value = _number(float, text, "a number")
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a finite number > 0, not {text!r}")
    return value


def _number(kind: Callable[[str], N], text: str, what: str) -> N:
    try:
        return kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be {what}, not {text!r}") from None
