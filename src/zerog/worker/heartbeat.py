"""The heartbeat thread: keeps every running job's lease alive and its progress flowing.

It runs apart from the jobs, so a job busy in pure Python, or in a C call that holds the GIL
only in bursts, still has its lease renewed. Each tick it writes buffered progress (which
renews the lease too), touches leases a third of their TTR old (or ``CONTROL_POLL_SECONDS``,
so operator requests arrive quickly), handles runs that stalled (see
:mod:`zerog.worker.stall_policy`), now and then rescues other workers' expired leases, and
calls the worker's ``on_tick`` (registry refresh, reports to a supervisor).

A C call that holds the GIL for longer than that (a long ``re`` match; ``hashlib`` and I/O
release it) stops this thread too. Under a supervisor, the parent process, which no child
can starve, keeps such a child's leases alive (see :mod:`zerog.worker.supervisor`); a worker
running on its own needs a TTR longer than the longest GIL hold of its jobs.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from zerog import settings
from zerog.errors import BackendError
from zerog.run_context import RunContext
from zerog.store import Store
from zerog.worker.stall_policy import StallWatch
from zerog.worker.trouble import Trouble

log = logging.getLogger(__name__)

TICK_SECONDS = settings.PROGRESS_FLUSH_SECONDS


class Heartbeat:
    """One thread per worker process watching every job the process runs."""

    def __init__(
        self,
        store: Store,
        rescue_interval: float,
        on_tick: Callable[[list[RunContext]], None] | None = None,
    ) -> None:
        self.store = store
        self.rescue_interval = rescue_interval
        self.on_tick = on_tick
        self._contexts: set[RunContext] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="zerog-heartbeat", daemon=True)
        self._last_rescue = float("-inf")
        self.trouble = Trouble("heartbeat", log)
        self.stalls = StallWatch(store)  # a stalled run is handled once (worker.stall_policy).

    def start(self) -> None:
        """Start beating."""
        self._thread.start()

    def stop(self) -> None:
        """Stop beating (after the jobs have been settled or released)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def watch(self, context: RunContext) -> None:
        """Keep this run's lease alive until :meth:`unwatch`."""
        with self._lock:
            self._contexts.add(context)

    def unwatch(self, context: RunContext) -> None:
        """The run ended."""
        with self._lock:
            self._contexts.discard(context)

    def running(self) -> list[RunContext]:
        """The runs being watched now."""
        with self._lock:
            return list(self._contexts)

    def _loop(self) -> None:
        while not self._stop.wait(TICK_SECONDS):
            try:
                self.beat()
            except BackendError as exc:  # told once, then counted: see worker.trouble.
                self.trouble.failed("renewing leases and upkeep", exc)
            except Exception:  # a bug in a hook must not stop the leases being renewed.
                log.exception("heartbeat hook failed; going on")
            else:
                self.trouble.ok()

    def beat(self) -> None:
        """One tick: flush or touch each run that needs it; rescue now and then."""
        now = time.monotonic()
        running = self.running()
        for context in running:
            due = min(context.lease_ttr() / 3, settings.CONTROL_POLL_SECONDS)
            if now - context.last_write >= due:
                context.touch()
            else:
                context.flush(force=False)
            self.stalls.check(context, now)
        if self.on_tick is not None:
            self.on_tick(running)
        if now - self._last_rescue >= self.rescue_interval:
            self._last_rescue = now
            self.store.rescue_expired()
        self.store.housekeeping()
