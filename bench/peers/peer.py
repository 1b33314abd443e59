"""The small interface every system's module implements; the runner knows nothing else.

A module under ``systems/`` holds both sides of one system: the task its workers import (built
from environment variables the runner sets per run) and a ``Peer`` that tells the runner how to
start its workers and how a producer enqueues. The producer runs in its own process
(``produce.py``), so no library's global state leaks into the runner or into the next system.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from sidechannel import Job

PEERS_DIR = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent  # the bench venv's scripts (rq, celery, dramatiq, ...).
PROCESSES = 2  # worker processes for every system.


class Unavailable(Exception):
    """The system cannot run here; its message (first line) is shown in the cell."""


class Producer(Protocol):
    """Enqueues benchmark jobs from one process."""

    def one(self, job: Job) -> None:
        """Enqueue one job with the library's ordinary call."""

    def bulk(self, jobs: list[Job]) -> None:
        """Enqueue many in the library's bulk call; raise NotImplementedError if it has none."""

    def close(self) -> None:
        """Release connections."""


@dataclass(frozen=True)
class Peer:
    """One system on one store, as the runner sees it."""

    name: str
    store: str  # redis, postgresql, sqlite or beanstalkd.
    module: str  # the module under systems/ (imported by producer and workers).
    workers: str  # the worker command and flags, as the README and the results show them.
    progress: bool = False  # has a progress / meta API (W5).
    skip: dict[str, str] = field(default_factory=dict)  # workload -> why it is n/a.


def env(name: str) -> str:
    """A setting the runner passed down; a clear error when run by hand without it."""
    try:
        return os.environ[name]
    except KeyError:
        raise SystemExit(f"{name} is not set: run this through bench/peers/run.py") from None


def concurrency() -> int | None:
    """Jobs per worker process the workload asks for (None: the library's default)."""
    value = os.environ.get("ZB_CONCURRENCY", "")
    return int(value) if value else None


def tool(name: str) -> str:
    """A console script of the bench venv."""
    return str(BIN / name)
