"""``--watch``: draw a table again every few seconds until Ctrl-C.

On a terminal the table is redrawn in place (rich's Live display); into a pipe or a file each
drawing is printed after the last, so a script or a log sees every one. Ctrl-C ends the watch
and the command exits 0: stopping to watch is not a failure.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

from rich.console import Console, RenderableType

from zerog.cli._common import EXIT_OK
from zerog.cli._flags import add_flag, positive_seconds

DEFAULT_EVERY_SECONDS = 2.0


def add_watch(parser: argparse.ArgumentParser, command: str) -> None:
    """``--watch`` and ``--every S``."""
    env = f"ZEROG_{command.upper()}"
    add_flag(parser, "--watch", "-w", switch=True, env=f"{env}_WATCH",
             help="draw the table again every few seconds, until Ctrl-C")  # fmt: skip
    add_flag(
        parser,
        "--every",
        kind=positive_seconds,
        default=DEFAULT_EVERY_SECONDS,
        env=f"{env}_EVERY",
        metavar="S",
        help="with --watch: every S seconds",
    )


def watch(draw: Callable[[], RenderableType], every_seconds: float, console: Console) -> int:
    """Show ``draw()`` until Ctrl-C, read again every ``every_seconds``."""
    from rich.live import Live  # only a watch needs it: keep every command's start-up quick.

    try:
        if console.is_terminal:
            with Live(draw(), console=console, auto_refresh=False) as live:
                while True:
                    time.sleep(every_seconds)
                    live.update(draw(), refresh=True)
        while True:
            console.print(draw())
            console.file.flush()
            time.sleep(every_seconds)
    except KeyboardInterrupt:
        return EXIT_OK
