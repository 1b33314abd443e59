"""The small interface every system's module implements, and what its modules share.

A module under ``systems/`` holds both sides of one system: the task its workers import (built
from environment variables the runner sets per run) and a ``Producer`` that enqueues. How to
start its workers is in the registry (``systems/__init__.py``). The producer runs in its own
process (``produce.py``), so no library's global state leaks into the runner or into the next
system.
"""

from __future__ import annotations

import os
import sys
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
