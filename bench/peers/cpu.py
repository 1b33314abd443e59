"""CPU time of what a run measures, and of everything else on the machine meanwhile.

Processes we started (workers, the producer, redis-server, beanstalkd) are measured as trees:
each live process's own time plus the time of the children it has reaped (RQ's work horses,
a pool's replaced children), so nothing that lived between two readings is lost. PostgreSQL's
backends are the postmaster's children, not ours: they are read by pid each time the meter
samples, and a backend that ends between two samples loses only what it spent since the last.

The rest of the machine is ``/proc/stat``'s busy time minus all of the above and the runner
itself: the load of other processes, which the runner records with every run and which makes
it repeat a disturbed one.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable
from dataclasses import dataclass

import psutil

Group = Callable[[], list[int]]  # the root pids of one measured group, asked at each reading.


def machine_busy() -> float:
    """CPU seconds all cores have spent busy since boot (everything but idle and iowait)."""
    with open("/proc/stat") as stat:
        fields = [int(v) for v in stat.readline().split()[1:]]
    ticks = os.sysconf("SC_CLK_TCK")
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields[:8]
    return (user + nice + system + irq + softirq + steal) / ticks


def tree_seconds(pid: int) -> float:
    """CPU seconds of a process and its descendants, live and reaped."""
    try:
        root = psutil.Process(pid)
        processes = [root, *root.children(recursive=True)]
    except psutil.Error:
        return 0.0
    total = 0.0
    for process in processes:
        with contextlib.suppress(psutil.Error):
            t = process.cpu_times()
            total += t.user + t.system + t.children_user + t.children_system
    return total


def own_seconds() -> float:
    """The runner's CPU seconds, with its reaped children (producers, stopped workers)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


@dataclass(frozen=True)
class Reading:
    wall: float
    busy: float  # the machine's.
    runner: float  # the runner and its reaped children.
    groups: dict[str, float]  # CPU seconds per measured group.


@dataclass(frozen=True)
class Usage:
    """CPU between two readings."""

    wall: float
    groups: dict[str, float]
    other_cores: float  # other processes' load, in cores (busy seconds per second).


class Meter:
    """Reads the measured groups (trees of our processes, PostgreSQL backends) together."""

    def __init__(self) -> None:
        self.trees: dict[str, Group] = {}
        self.foreign: dict[str, Callable[[], list[psutil.Process]]] = {}
        self._seen: dict[tuple[int, float], float] = {}  # foreign process -> last CPU seconds.

    def tree(self, name: str, roots: Group) -> None:
        self.trees[name] = roots

    def backends(self, name: str, find: Callable[[], list[psutil.Process]]) -> None:
        self.foreign[name] = find

    def sample(self) -> None:
        """Read the foreign processes now (call it often while they may come and go)."""
        for find in self.foreign.values():
            for process in find():
                with contextlib.suppress(psutil.Error):
                    t = process.cpu_times()
                    self._seen[(process.pid, process.create_time())] = t.user + t.system

    def read(self) -> Reading:
        self.sample()
        groups = {
            name: sum(tree_seconds(pid) for pid in roots()) for name, roots in self.trees.items()
        }
        for name in self.foreign:
            groups[name] = sum(self._seen.values())
        return Reading(time.perf_counter(), machine_busy(), own_seconds(), groups)

    def usage(self, start: Reading, end: Reading) -> Usage:
        groups = {name: end.groups[name] - start.groups.get(name, 0.0) for name in end.groups}
        measured = sum(groups.values()) + end.runner - start.runner
        wall = end.wall - start.wall
        other = (end.busy - start.busy - measured) / wall if wall > 0 else 0.0
        return Usage(wall, groups, max(0.0, other))
