"""The tables people read in a terminal of 80 to 120 columns: jobs and queues.

Every row is one line: ids are shown by their last digits (as the dashboard shows them, and
every command takes them back), long names end in an ellipsis, and the column that says what
a job is takes the width that is left. ``--json`` has everything in full.
"""

from __future__ import annotations

import time
from typing import Any

from rich import box
from rich.table import Column, Table
from rich.text import Text

from zerog.cli.output import duration, short, state_text
from zerog.model import Record

BAR_CELLS = 6  # the progress column's bar.
SHORT_ID = 10  # hex digits of a job id shown in tables.


def short_id(uuid: str) -> str:
    """A job id by its last digits, which tell jobs apart (UUIDv7 ids made in the same
    moment share their first ones); every command takes this back."""
    return uuid[-SHORT_ID:]


def bar(completeness: float | None) -> str:
    """``▰▰▰▱▱▱  50%``: a bar and the percentage, fixed width."""
    fraction = max(0.0, min(1.0, float(completeness or 0)))
    full = round(fraction * BAR_CELLS)
    return "▰" * full + "▱" * (BAR_CELLS - full) + f" {100 * fraction:3.0f}%"


def age(epoch: float | None, now: float | None = None) -> str:
    """How long ago, in the fewest characters: ``12s``, ``3m``, ``5h``, ``2d``."""
    if epoch is None:
        return "-"
    seconds = max(0.0, (now if now is not None else time.time()) - epoch)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{int(seconds // size)}{unit}"
    return f"{int(seconds)}s"


def table(*columns: Column, title: str) -> Table:
    """A table with one header rule and no borders: the most room for data."""
    return Table(
        *columns,
        title=title,
        title_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        padding=(0, 1),
    )


def squeezed(header: str, max_width: int | None = None, **more: Any) -> Column:
    """A one-line column that ends long text with an ellipsis."""
    return Column(header, no_wrap=True, overflow="ellipsis", max_width=max_width, **more)


Cell = str | Text
Spec = tuple[str, int, int]  # a column: its header, the most and the least width it gets.


def fitted(specs: list[Spec], rows: list[list[Cell]], width: int, title: str) -> Table:
    """A table of one-line rows that fits ``width`` columns: each column as wide as its
    widest cell (up to its most), then the widest ones narrowed, down to their least, until
    the whole fits. Rich alone would squeeze every column alike and leave ids and states
    unreadable beside a long description."""
    natural = [
        min(most, max([len(header), *(len(str(row[i])) for row in rows)]))
        for i, (header, most, _least) in enumerate(specs)
    ]
    widths = [max(least, w) for w, (_h, _m, least) in zip(natural, specs, strict=True)]
    room = width - 1 - 3 * len(specs)  # a separator and a space either side of each cell.
    while sum(widths) > room:
        slack = [w - least for w, (_h, _m, least) in zip(widths, specs, strict=True)]
        widest = max(range(len(widths)), key=lambda i: (slack[i] > 0, widths[i]))
        if slack[widest] <= 0:
            break  # as narrow as it goes: the terminal is narrower than any useful table.
        widths[widest] -= 1
    out = table(
        *(
            Column(header, width=w, no_wrap=True, overflow="ellipsis")
            for (header, _m, _l), w in zip(specs, widths, strict=True)
        ),
        title=title,
    )
    for row in rows:
        out.add_row(*row)
    return out


JOB_COLUMNS: list[Spec] = [
    ("id", SHORT_ID, SHORT_ID),
    ("type", 20, 8),
    ("queue", 14, 6),
    ("state", 18, 7),
    ("progress", BAR_CELLS + 5, BAR_CELLS + 5),
    ("tries", 5, 3),
    ("age", 4, 3),
    ("what", 80, 10),
]


def jobs_table(records: list[Record], now: float, width: int) -> Table:
    """``zerog jobs``: one line per job, ``width`` columns at most."""
    rows: list[list[Cell]] = [
        [
            Text(short_id(record["uuid"])),
            Text(record["type"]),
            Text(record["queue"]),
            state_cell(record, now),
            bar(record["completeness"]),
            f"{record['attempts']}/{int(record.get('max_retries') or 0) + 1}",
            age(record.get("updated_at"), now),
            Text(short(what(record), 200)),
        ]
        for record in records
    ]
    return fitted(JOB_COLUMNS, rows, width, f"{len(records)} job(s)")


def state_cell(record: Record, now: float) -> Text:
    """The state, and what explains it: stalled for how long, when a scheduled job runs, how
    many jobs a ``depends`` job waits for, the ETA of a running one."""
    cell = state_text(record["state"])
    state = record["state"]
    if record.get("stalled"):
        cell.append(f" stalled {duration(record.get('quiet_seconds'))}", style="bold red")
    elif state == "scheduled" and record.get("ready_at"):
        cell.append(f" in {duration(max(0.0, record['ready_at'] - now))}")
    elif state == "depends":
        cell.append(f" on {len(record.get('depends') or [])}")
    elif state == "running" and record.get("eta") is not None:
        cell.append(f" ~{duration(record['eta'])}")
    return cell


def what(record: Record) -> str:
    """What the job said last (its progress message, last error or log line), else its
    values."""
    if record.get("progress_message"):
        return str(record["progress_message"])
    for key in ("errors", "events"):
        if record.get(key):
            return str(record[key][-1]["msg"])
    values = record.get("values") or {}
    return ", ".join(f"{key}={value}" for key, value in values.items())


def queues_table(queues: list[dict[str, Any]], states: list[str]) -> Table:
    """``zerog queues``: only the states some queue has jobs in, and whether it is paused."""
    shown = [s for s in states if any(q["counts"][s] for q in queues)]
    out = table(
        squeezed("queue", 30),
        *(Column(state, justify="right", no_wrap=True) for state in shown),
        Column("total", justify="right"),
        squeezed("", 6),
        title=f"{len(queues)} queue(s)",
    )
    for queue in queues:
        numbers = [queue["counts"][s] for s in shown]
        out.add_row(
            Text(queue["name"]),
            *[str(n) if n else "·" for n in numbers],
            str(sum(queue["counts"].values())),
            Text("paused", style="magenta") if queue.get("paused") else "",
        )
    return out
