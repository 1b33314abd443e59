"""How the CLI prints: JSON for scripts, rich tables for people.

Everything that came from a job (values, log lines, errors) is user data and is wrapped in
``rich.text.Text`` so that brackets in it are never read as rich markup.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from typing import Any

from rich.console import Console
from rich.text import Text

STATE_STYLES = {
    "waiting": "cyan",
    "scheduled": "blue",
    "depends": "blue",
    "running": "yellow",
    "paused": "magenta",
    "complete": "green",
    "failed": "red",
    "cancelled": "dim",
    "expired": "dim",
}


PIPE_WIDTH = 160  # columns when stdout is a pipe or file and COLUMNS is unset.


def console() -> Console:
    """A console on stdout; rich drops colour and live effects when it is not a terminal.

    Piped output gets a wide page instead of rich's 80 columns, so uuids and times are not
    folded in logs and scripts.
    """
    out = Console(highlight=False)
    if not out.is_terminal and not os.environ.get("COLUMNS"):
        out = Console(highlight=False, width=PIPE_WIDTH)
    return out


def print_json(value: Any) -> None:
    """Machine-readable output: one JSON document on stdout."""
    sys.stdout.write(json.dumps(value, indent=2, ensure_ascii=False, default=str) + "\n")


def state_text(state: str | None) -> Text:
    """A state in its colour."""
    return Text(str(state or "-"), style=STATE_STYLES.get(str(state), ""))


def when(epoch: float | None) -> str:
    """A stored time (epoch seconds) in local time."""
    if epoch is None:
        return "-"
    return dt.datetime.fromtimestamp(epoch).strftime("%Y-%m-%d %H:%M:%S")


def duration(total: float | None) -> str:
    """Seconds as ``1h02m``, ``3m05s`` or ``4.2s``."""
    if total is None:
        return "-"
    if total < 60:
        return f"{total:.1f}s"
    minutes, secs = divmod(int(total), 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def percent(completeness: float | None) -> str:
    """Completeness 0..1 as a percentage."""
    return f"{100 * float(completeness or 0):.0f}%"


def short(text: Any, limit: int = 60) -> str:
    """One line of at most ``limit`` characters."""
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 1] + "…"
