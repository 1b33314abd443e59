"""Naming a death by memory: was a process killed by the kernel's OOM killer, or over a limit?

A SIGKILL alone says nothing of why. Where cgroup v2 is mounted, ``memory.events`` counts the
OOM kills in the worker's cgroup (cgroup v1: ``memory.oom_control``); a count that rose while
the process ran names the OOM killer. Elsewhere (or when the count did not move) the process's
last resident size, read while it ran, is weighed against the limit it had: over it, the
death is named as "out of memory" with both figures, for an operator to judge.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

from zerog.attempt_usage import mib

CGROUP_ROOT = Path("/sys/fs/cgroup")


def kills() -> int | None:
    """The OOM kills counted in this process's memory cgroup, or None where none is seen."""
    for path in _event_files():
        try:
            for line in path.read_text().splitlines():
                name, _, value = line.partition(" ")
                if name == "oom_kill":
                    return int(value)
        except (OSError, ValueError):
            continue
    return None


def _event_files() -> list[Path]:
    """cgroup v2's memory.events of this process's group, then v1's memory.oom_control."""
    found = []
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return []
    for line in lines:
        _, controllers, group = line.split(":", 2)
        if controllers == "":
            found.append(CGROUP_ROOT / group.lstrip("/") / "memory.events")
        elif "memory" in controllers.split(","):
            found.append(CGROUP_ROOT / "memory" / "memory.oom_control")  # v1, as mounted here.
    return found


def describe_death(
    status: int,
    rss: int | None,
    limit: int | None,
    oom_before: int | None,
    limit_name: str = "its memory limit",
) -> str:
    """How a process ended, in words, naming memory when it is the likely cause: "was killed
    by SIGKILL: out of memory (the kernel's OOM killer, cgroup oom_kill 3 → 4)"."""
    if not os.WIFSIGNALED(status):
        return f"exited with code {os.waitstatus_to_exitcode(status)}"
    name = _signal_name(os.WTERMSIG(status))
    how = f"was killed by {name}"
    if os.WTERMSIG(status) != signal.SIGKILL:
        return how
    after = kills()
    if oom_before is not None and after is not None and after > oom_before:
        killer = f"the kernel's OOM killer, cgroup oom_kill {oom_before} → {after}"
        return f"{how}: out of memory ({killer})"
    if limit is not None and rss is not None and rss > limit:
        return (
            f"{how}: out of memory (its resident size reached {mib(rss)}, over "
            f"{limit_name} of {mib(limit)})"
        )
    return how


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"
