"""What one attempt used: wall time, CPU time (user and system) and peak resident memory,
with what exactly each figure measures; the worker stores them as the record's ``usage``.

A job run on a thread of a worker process shares the process with its other job threads and
the heartbeat. Its **CPU time** is its own thread's (``getrusage(RUSAGE_THREAD)``, Linux),
exact. Its **memory** cannot be told apart from the process's, so the figures are the
process's: its resident size when the attempt began (``start_rss_bytes``) and its peak during
the attempt (``peak_rss_bytes``); what the job itself held at most is about their difference.
The peak is the process's high-water mark if it rose during the attempt (with one job thread
per process the mark is lowered after each attempt that raised it, so each attempt's growth
shows), else the larger of the resident sizes at start and end: with several job threads,
another job's memory may count, and a spike below the mark is missed (see :class:`Meter`).

A job run in a process of its own (``isolate = "process"``, see :mod:`zerog.worker.isolate`)
has exact figures: its process's own rusage, as ``wait4`` returns it.
"""

from __future__ import annotations

import copy
import os
import resource
import time
from typing import Any

from zerog.model import Settlement
from zerog.worker import procinfo

THREAD = "thread"  # the job ran on a thread of the worker process.
PROCESS = "process"  # the job ran in a process of its own.
SHORT_SECONDS = 0.01  # a run this short that left the mark alone is given its start's size.


def figures(
    *,
    wall: float,
    user: float,
    system: float,
    peak: int,
    start: int,
    scope: str,
    pid: int,
    threads: int = 1,
) -> dict[str, Any]:
    """The figures of one attempt as stored (JSON: seconds and bytes)."""
    return {
        "wall_seconds": round(wall, 6),
        "cpu_user_seconds": round(user, 6),
        "cpu_system_seconds": round(system, 6),
        "peak_rss_bytes": int(peak),
        "start_rss_bytes": int(start),
        "scope": scope,  # thread: CPU of the job's thread, memory of the shared process.
        "threads": int(threads),  # job threads sharing the process (1: the job's alone).
        "pid": int(pid),
    }


class Meter:
    """Measures one attempt run on the calling thread, from its creation to :meth:`read`.

    Cheap, as it runs around every job: one ``getrusage(RUSAGE_THREAD)`` at each end (the
    thread's CPU time, and on Linux the process's high-water mark ``ru_maxrss`` in the same
    call, see :func:`_probe`) and one read of the resident size at the start. If the mark
    rose during the attempt, it is the process's peak during the attempt. With one job
    thread, the mark is lowered to the resident size after each attempt that raised it
    (``clear_refs``), so the next attempt's growth shows too. Otherwise (the mark did not
    move, or other threads share the process) the larger of the resident sizes at start and
    end is given: a lower bound.
    """

    __slots__ = ("start_peak", "start_rss", "start_system", "start_user", "start_wall", "threads")

    def __init__(self, threads: int) -> None:
        self.threads = threads
        self.start_rss = procinfo.rss_bytes()
        self.start_user, self.start_system, self.start_peak = _sample()
        self.start_wall = time.monotonic()

    @staticmethod
    def prepare(threads: int) -> None:
        """Lower the mark before a process's first attempt (it holds the start-up's peak)."""
        if threads == 1:
            procinfo.reset_peak()

    def read(self) -> dict[str, Any]:
        """The figures from the start until now."""
        wall = time.monotonic() - self.start_wall
        user, system, peak = _sample()
        if peak > self.start_peak:  # the mark rose during the attempt: it is its peak.
            if self.threads == 1:
                procinfo.reset_peak()
        elif wall < SHORT_SECONDS:  # a short job (the batch regime): nothing moved, skip a read.
            peak = self.start_rss
        else:
            peak = max(self.start_rss, procinfo.rss_bytes())
        return figures(
            wall=wall,
            user=user - self.start_user,
            system=system - self.start_system,
            peak=peak,
            start=self.start_rss,
            scope=THREAD,
            pid=os.getpid(),
            threads=self.threads,
        )


def thread_cpu() -> tuple[float, float]:
    """The calling thread's CPU time so far, (user, system) in seconds; where threads have
    no rusage of their own (not Linux), ``thread_time`` counted as user time."""
    user, system, _peak = _sample()
    return user, system


_THREAD = getattr(resource, "RUSAGE_THREAD", None)
_joint: bool | None = None  # RUSAGE_THREAD's ru_maxrss is the process's mark (see _probe).


def _probe() -> bool:
    """Whether ``getrusage(RUSAGE_THREAD)`` reports the process's high-water mark too (Linux
    fills ``ru_maxrss`` from the process's memory for a thread as for the process): then one
    system call gives both the thread's CPU and the mark; else two are made."""
    global _joint
    if _joint is None:
        own = resource.getrusage(_THREAD).ru_maxrss if _THREAD is not None else 0
        whole = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        _joint = own > 0 and own == whole
    return _joint


def _sample() -> tuple[float, float, int]:
    """The calling thread's CPU time (user, system; seconds) and the process's mark (bytes)."""
    if _THREAD is None:
        return time.thread_time(), 0.0, procinfo.peak_rss_bytes()
    usage = resource.getrusage(_THREAD)
    if _joint or _probe():
        return usage.ru_utime, usage.ru_stime, procinfo.maxrss_bytes(usage.ru_maxrss)
    return usage.ru_utime, usage.ru_stime, procinfo.peak_rss_bytes()


def with_usage(settlement: Settlement | None, usage: dict[str, Any]) -> Settlement | None:
    """The settlement carrying the attempt's figures, and its error too (so each failed
    attempt keeps its own in the record's errors; ``usage`` holds the latest)."""
    if settlement is None:
        return None
    error = None if settlement.error is None else {**settlement.error, "usage": usage}
    # A shallow copy with two fields set: what dataclasses.replace makes, at a third of its
    # cost (it runs after every job; a Settlement has no __post_init__ to run again).
    carried = copy.copy(settlement)
    object.__setattr__(carried, "usage", usage)
    object.__setattr__(carried, "error", error)
    return carried
