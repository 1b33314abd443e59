"""``zerog job UUID`` for people: a summary, then the log, the errors and the history."""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from zerog.attempt_usage import describe as describe_usage
from zerog.cli.output import duration, percent, short, state_text, when

EVENTS_SHOWN = 20  # the last log lines printed; --json has them all.


def show(out: Console, record: dict[str, Any]) -> None:
    """Print one job."""
    out.print(_summary(record))
    _events(out, record.get("events") or [])
    _errors(out, record.get("errors") or [])
    _history(out, record.get("history") or [])


def _summary(record: dict[str, Any]) -> Table:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    grid.add_row("job", Text(f"{record['uuid']}  {record['type']}"))
    grid.add_row("state", state_text(record["state"]))
    grid.add_row("queue", Text(f"{record['queue']}  (priority {record['priority']})"))
    grid.add_row("progress", _progress(record))
    if record.get("quiet_seconds") is not None:
        grid.add_row("last report", _last_report(record))
    grid.add_row("attempts", f"{record['attempts']} (retries allowed: {record['max_retries']})")
    if record.get("usage"):
        grid.add_row("last attempt", Text(describe_usage(record["usage"])))
    if record.get("worker"):
        grid.add_row("worker", Text(str(record["worker"])))
    if record.get("inbox"):  # sent, not yet taken by the job (zerog message).
        grid.add_row("messages", Text(f"{len(record['inbox'])} waiting for the job"))
    grid.add_row("created", when(record.get("created_at")))
    grid.add_row("started", when(record.get("started_at")))
    grid.add_row("finished", when(record.get("finished_at")))
    if record.get("tags"):
        grid.add_row("tags", Text(", ".join(record["tags"])))
    grid.add_row("values", Text(_compact(record.get("values"))))
    if record.get("result") is not None or record.get("result_code") is not None:
        grid.add_row(
            "result", Text(f"{_compact(record.get('result'))}  (code {record.get('result_code')})")
        )
    return grid


def _last_report(record: dict[str, Any]) -> Text:
    """How long ago the running job last progressed; in red once it counts as stalled."""
    text = Text(f"{duration(record['quiet_seconds'])} ago")
    if record.get("stalled"):
        text.append("  STALLED: no progress for too long", "bold red")
    return text


def _progress(record: dict[str, Any]) -> Table:
    row = Table.grid(padding=(0, 1))
    completeness = float(record.get("completeness") or 0)
    eta = record.get("eta")
    message = record.get("progress_message")
    row.add_row(
        ProgressBar(total=1.0, completed=completeness, width=30),
        percent(completeness),
        f"ETA {duration(eta)}" if eta is not None else "",
        Text(short(message)) if message else "",
    )
    return row


def _compact(value: Any) -> str:
    return short(json.dumps(value, ensure_ascii=False, default=str), 300)


def _events(out: Console, events: list[dict[str, Any]]) -> None:
    if not events:
        return
    shown = events[-EVENTS_SHOWN:]
    table = Table(
        "time", "message", title=f"log (last {len(shown)} of {len(events)})", title_justify="left"
    )
    for event in shown:
        table.add_row(when(event.get("timeStamp")), Text(str(event.get("msg", ""))))
    out.print(table)


def _errors(out: Console, errors: list[dict[str, Any]]) -> None:
    if not errors:
        return
    table = Table("time", "code", "message", title=f"errors ({len(errors)})", title_justify="left")
    for error in errors:
        table.add_row(
            when(error.get("timeStamp")),
            str(error.get("errorCode") or "-"),
            Text(str(error.get("msg", ""))),
        )
        if error.get("usage"):
            table.add_row("", "", Text(describe_usage(error["usage"]), style="dim"))
    out.print(table)
    trace = errors[-1].get("traceback")
    if trace:
        out.print(Text("traceback of the last error:", style="bold"))
        out.print(Text(str(trace).rstrip(), style="dim"))


def _history(out: Console, history: list[dict[str, Any]]) -> None:
    if not history:
        return
    table = Table(
        "time", "event", "state", "worker", "detail", title="history", title_justify="left"
    )
    for entry in history:
        table.add_row(
            when(entry.get("at")),
            Text(str(entry.get("event"))),
            state_text(entry.get("state")),
            Text(str(entry.get("worker") or "")),
            Text(str(entry.get("detail") or "")),
        )
    out.print(table)
