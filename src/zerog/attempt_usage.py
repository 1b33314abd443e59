"""An attempt's figures as the record keeps them (``usage``) and as people read them.

The worker measures them (:mod:`zerog.worker.usage` says exactly what each one measures);
the CLI, the API and the dashboard show them, all in the words of :func:`describe`.
"""

from __future__ import annotations

from typing import Any

MIB = 1 << 20


def describe(usage: dict[str, Any] | None) -> str:
    """One line: wall time, CPU time, peak resident memory and what they are of."""
    if not usage:
        return "-"
    wall = float(usage.get("wall_seconds") or 0.0)
    user = float(usage.get("cpu_user_seconds") or 0.0)
    system = float(usage.get("cpu_system_seconds") or 0.0)
    peak = int(usage.get("peak_rss_bytes") or 0)
    start = int(usage.get("start_rss_bytes") or 0)
    own = usage.get("scope") == "process"
    cpu_of = "its process" if own else "its thread"
    return (
        f"wall {wall:.2f} s · CPU {user:.2f} s user + {system:.2f} s system ({cpu_of}) · "
        f"peak RSS {mib(peak)} ({_memory_of(usage, own)}, {mib(start)} at start)"
    )


def _memory_of(usage: dict[str, Any], own: bool) -> str:
    if own:
        return "its own process"
    threads = int(usage.get("threads") or 1)
    if threads == 1:
        return "the worker process, one job at a time"
    return f"the worker process, shared by {threads} job threads"


def mib(size: int | float) -> str:
    """A size in MiB, as the figures and the memory errors say it."""
    return f"{size / MIB:.0f} MiB"
