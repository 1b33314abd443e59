"""What the supervisor and its children read about processes: state, CPU time, memory.

Linux's ``/proc`` answers all of it without a dependency. Elsewhere the readers return None and
the features built on them step aside: the supervisor does not keep a silent child's leases
alive (see :mod:`zerog.worker.supervisor`), and ``--max-memory`` falls back to the peak
resident size that ``getrusage`` reports.
"""

from __future__ import annotations

import os
import resource
import sys
from dataclasses import dataclass

STOPPED_STATES = frozenset({"T", "t"})  # stopped by a signal (SIGSTOP, SIGTSTP) or traced.
RUNNING_STATE = "R"
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


@dataclass(frozen=True)
class ProcessSample:
    """One reading of a process: its scheduler state and the CPU time it has used."""

    state: str  # R running, S sleeping, D disk wait, T stopped, Z zombie, ...
    cpu_ticks: int  # user + system time, in clock ticks.

    @property
    def stopped(self) -> bool:
        """Stopped by a signal: it runs no code at all until SIGCONT."""
        return self.state in STOPPED_STATES


def sample(pid: int) -> ProcessSample | None:
    """The process's state and CPU time, or None if unknown (no /proc, or it is gone)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            text = handle.read().decode("ascii", "replace")
    except OSError:
        return None
    # "pid (comm) state ppid ...": comm may hold spaces and parentheses; cut at the last ")".
    fields = text[text.rfind(")") + 2 :].split()
    try:
        return ProcessSample(state=fields[0], cpu_ticks=int(fields[11]) + int(fields[12]))
    except (IndexError, ValueError):
        return None


def rss_bytes() -> int:
    """This process's resident memory now; the peak resident size where /proc is missing."""
    try:
        return int(os.pread(_own("statm", os.O_RDONLY), 64, 0).split()[1]) * PAGE_SIZE
    except (OSError, ValueError, IndexError):
        return maxrss_bytes(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def core_count() -> int:
    """The CPU cores this process may run on: the default number of worker processes."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


_opened: dict[str, tuple[int, int]] = {}  # /proc/self file -> (pid that opened it, fd).


def _own(name: str, flags: int) -> int:
    """A descriptor on this process's ``/proc/<pid>/<name>``, kept open: the worker reads
    its resident size around every job, and an open costs more than the read (a fork's
    child opens its own: the parent's descriptor names the parent)."""
    pid = os.getpid()
    known = _opened.get(name)
    if known is not None and known[0] == pid:
        return known[1]
    fd = os.open(f"/proc/{pid}/{name}", flags | os.O_CLOEXEC)
    _opened[name] = (pid, fd)
    return fd


def _read(path: str) -> bytes:
    """A small /proc file's text in one read: raw calls, as the worker reads these around
    every job (a file object costs several times more)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        return os.read(fd, 4096)
    finally:
        os.close(fd)


def rss_of(pid: int) -> int | None:
    """Another process's resident memory now (bytes), or None (no /proc, or it is gone)."""
    try:
        return int(_read(f"/proc/{pid}/statm").split()[1]) * PAGE_SIZE
    except (OSError, ValueError, IndexError):
        return None


def peak_rss_bytes() -> int:
    """This process's peak resident memory since it began or since the last
    :func:`reset_peak` (``getrusage``'s ``ru_maxrss``, a system call: the worker reads it
    around every job). On Linux it is never below what the process's exited threads and the
    image it replaced at ``exec`` had seen; a forked worker child starts with neither."""
    return maxrss_bytes(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def maxrss_bytes(ru_maxrss: int) -> int:
    """A rusage's ``ru_maxrss`` in bytes: it is bytes on macOS, KiB elsewhere."""
    return ru_maxrss if sys.platform == "darwin" else ru_maxrss * 1024


def reset_peak() -> bool:
    """Lower this process's VmHWM to its resident size now (Linux 4.0+, ``clear_refs`` 5),
    so the next :func:`peak_rss_bytes` is the peak since now; False where it cannot."""
    try:
        os.write(_own("clear_refs", os.O_WRONLY), b"5")
    except OSError:
        return False
    return True
