"""What every benchmark job does, and how the harness counts it from outside the workers.

A job's only effect is one ``os.write`` on a file opened with ``O_APPEND`` (its path in an
environment variable the harness sets for the workers): a byte for a finished job, a line for
a latency sample. The kernel appends each write whole, so the harness counts completions by
the file's size without trusting any system's own bookkeeping, and the cost is the same for
every system.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

DONE = "ZB_DONE"  # one byte per finished job.
STARTED = "ZB_STARTED"  # one byte per started progress job (W5).
LINES = "ZB_LINES"  # one line per latency sample (W3): seconds from enqueue to start.

KINDS = ("noop", "latency", "sleep", "progress")

_fds: dict[tuple[int, str], int] = {}


@dataclass(frozen=True)
class Job:
    """A benchmark job's arguments, the same for every system (all JSON-ready)."""

    kind: str  # one of KINDS.
    enqueued: float = 0.0  # time.time() at enqueue (latency jobs).
    seconds: float = 0.0  # how long a sleep or progress job runs.

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _fd(variable: str) -> int:
    """The calling process's descriptor for the variable's file (opened once per process:
    forked workers open their own, so no offset or lock is shared)."""
    key = (os.getpid(), variable)
    fd = _fds.get(key)
    if fd is None:
        fd = os.open(os.environ[variable], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        _fds[key] = fd
    return fd


def mark(variable: str = DONE) -> None:
    """Append one byte: one event counted."""
    os.write(_fd(variable), b"x")


def perform(kind: str, enqueued: float, seconds: float, report: Callable[[float], Any]) -> None:
    """The job body for threaded and forked workers. ``report`` sets progress (W5)."""
    started = time.time()
    if kind == "latency":
        os.write(_fd(LINES), f"{started - enqueued:.6f}\n".encode())
        return
    if kind == "sleep":
        time.sleep(seconds)
    elif kind == "progress":
        mark(STARTED)
        for tick in range(1, int(seconds) + 1):
            time.sleep(1.0)
            report(tick / seconds)
    mark()


async def perform_async(
    kind: str, enqueued: float, seconds: float, report: Callable[[float], Awaitable[Any]]
) -> None:
    """The same body for asyncio workers (arq, pgqueuer): sleeps without blocking the loop."""
    started = time.time()
    if kind == "latency":
        os.write(_fd(LINES), f"{started - enqueued:.6f}\n".encode())
        return
    if kind == "sleep":
        await asyncio.sleep(seconds)
    elif kind == "progress":
        mark(STARTED)
        for tick in range(1, int(seconds) + 1):
            await asyncio.sleep(1.0)
            await report(tick / seconds)
    mark()


def no_report(_: float) -> None:
    """For systems without a progress API (they never get W5)."""


async def no_report_async(_: float) -> None:
    """The same for asyncio workers."""


def count(path: Path) -> int:
    """Events counted so far in a mark file (its size: one byte each)."""
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def samples(path: Path) -> list[float]:
    """The latency samples written so far, in seconds."""
    try:
        return [float(line) for line in path.read_text().split()]
    except FileNotFoundError:
        return []
