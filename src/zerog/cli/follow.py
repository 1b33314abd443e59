"""``zerog job UUID --follow``: watch one long job from a terminal until it ends.

It reads the job from the store every ``--interval`` seconds, as the HTTP stream does, and
prints what changed: state changes, new log lines and errors, above a live progress bar with
the ETA. With ``--json`` each change is one JSON line (the stream's message), for scripts.
The exit code tells how the job ended, so a shell script can wait on a job:
0 complete, 1 failed, cancelled or expired.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TaskID, TaskProgressColumn, TextColumn
from rich.text import Text

from zerog.cli._common import EXIT_FAILURE, EXIT_OK
from zerog.cli.output import STATE_STYLES, duration, short, state_text, when
from zerog.job_changes import Tracker
from zerog.model import Record, State

INITIAL_LINES = 10  # log lines shown from before the follow began.
DEFAULT_INTERVAL_SECONDS = 0.5

Message = dict[str, Any]


def follow(
    read: Callable[[], Record],
    out: Console,
    *,
    as_json: bool = False,
    interval_seconds: float = DEFAULT_INTERVAL_SECONDS,
) -> int:
    """Show the job's changes until it is final; returns the exit code of its final state."""
    tracker = Tracker(INITIAL_LINES)
    if as_json:
        return _follow_json(read, tracker, interval_seconds)
    with Progress(
        TextColumn("{task.fields[state]}"),
        BarColumn(bar_width=30),
        TaskProgressColumn(),
        TextColumn("{task.fields[eta]}"),
        TextColumn("{task.fields[note]}"),
        console=out,
        refresh_per_second=4,
    ) as bar:
        task = bar.add_task("job", total=100, state="", eta="", note="")
        shown = _Shown(bar, task)
        while True:
            message = tracker.message(read())
            if message is not None:
                shown.update(message)
                if message["final"]:
                    return _exit_code(message)
            time.sleep(interval_seconds)


def _follow_json(read: Callable[[], Record], tracker: Tracker, interval_seconds: float) -> int:
    while True:
        message = tracker.message(read())
        if message is not None:
            sys.stdout.write(json.dumps(message, ensure_ascii=False, default=str) + "\n")
            sys.stdout.flush()
            if message["final"]:
                return _exit_code(message)
        time.sleep(interval_seconds)


def _exit_code(message: Message) -> int:
    return EXIT_OK if message["state"] == State.COMPLETE else EXIT_FAILURE


class _Shown:
    """The terminal's view: lines printed above the bar, and the bar itself."""

    def __init__(self, bar: Progress, task: TaskID) -> None:
        self.bar = bar
        self.task = task
        self.state: str | None = None
        self.stalled = False

    def update(self, message: Message) -> None:
        out = self.bar.console
        for event in message["events"]:
            out.print(Text(f"{when(event.get('timeStamp'))}  {event.get('msg', '')}"))
        for error in message["errors"]:
            out.print(Text(f"{when(error.get('timeStamp'))}  error: {error.get('msg', '')}"))
        if message["state"] != self.state:
            self.state = message["state"]
            line = Text(f"{time.strftime('%Y-%m-%d %H:%M:%S')}  ").append(state_text(self.state))
            out.print(line)
        if message.get("stalled") and not self.stalled:
            out.print(Text("stalled: no progress for too long", "red"))
        self.stalled = bool(message.get("stalled"))
        eta = message.get("eta")
        self.bar.update(
            self.task,
            completed=100 * float(message.get("completeness") or 0),
            state=f"[{STATE_STYLES.get(str(self.state)) or 'default'}]{self.state:<9}[/]",
            eta=f"ETA {duration(eta)}" if eta is not None else "",
            note=escape(short(message.get("progress_message") or "", 48)),
        )
        if message["final"] and message.get("result") is not None:
            result = json.dumps(message["result"], ensure_ascii=False, default=str)
            out.print(Text(f"result: {short(result, 200)}"))
