"""Deferred functions for the deferrable face's tests (a worker process imports this).

The store comes from FACES_DEFERRED_URL (a SQLite file), else memory; FACES_DEFERRED_MARKER is
a file each call appends to, so that a test sees what a worker process ran.
"""

import os

from zerog.deferrable import Deferrable
from zerog.deferrable.backend import ZerogBackendFactory

factory = ZerogBackendFactory(os.environ.get("FACES_DEFERRED_URL", "memory://"))
calls = Deferrable(backend=factory.create_backend_for_group("faces"))
SEEN: list[object] = []


class Flaky(Exception):
    """Raised by ``fails_twice`` until its third attempt."""


def _mark(text: str) -> None:
    marker = os.environ.get("FACES_DEFERRED_MARKER")
    if marker:
        with open(marker, "a") as handle:
            handle.write(text + "\n")


@calls.deferrable
def record(value):
    SEEN.append(value)
    _mark(repr(value))


@calls.deferrable(error_classes=[Flaky], max_attempts=3, use_exponential_backoff=False)
def fails_twice(marker_lines):
    lines = 0
    marker = os.environ.get("FACES_DEFERRED_MARKER")
    if marker and os.path.exists(marker):
        with open(marker) as handle:
            lines = len(handle.readlines())
    _mark(f"attempt {lines + 1}")
    if lines + 1 < marker_lines:
        raise Flaky(f"attempt {lines + 1}")


@calls.deferrable(error_classes=[Flaky], max_attempts=2)
def always_flaky():
    raise Flaky("again")


@calls.deferrable(ttl_seconds=10)
def short_lived():
    SEEN.append("short_lived")
