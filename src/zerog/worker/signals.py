"""OS signal handling for workers: handlers only set flags (logging or I/O inside a handler
is unsafe), and the old handlers are put back on exit so zerog can run inside another
program's process."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType


class StopFlags:
    """What the signals asked: ``draining`` after the first SIGTERM/SIGINT, ``now`` after a
    second one."""

    def __init__(self) -> None:
        self.draining = threading.Event()
        self.now = threading.Event()

    def request(self) -> None:
        """A stop was asked: the first drains, the second stops at once."""
        if self.draining.is_set():
            self.now.set()
        self.draining.set()


@contextmanager
def stop_on_signals(flags: StopFlags) -> Iterator[StopFlags]:
    """Route SIGTERM and SIGINT to ``flags`` while inside the block (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield flags
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        flags.request()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield flags
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
