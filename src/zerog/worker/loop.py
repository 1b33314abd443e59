"""The worker process: M consumer threads (reserve → run → settle) and one heartbeat thread.

A forking supervisor (``--workers N``) runs N of these; one is also usable on its own, inside
a test or another program. Shutdown is in two stages: ``drain`` stops reserving and lets the
running jobs finish within the grace period; what still runs after it is released back to the
queue with its last checkpoint, its attempt refunded.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Sequence

from zerog.backends.base import Reservation
from zerog.errors import BackendError
from zerog.store import Store
from zerog.worker.heartbeat import Heartbeat
from zerog.worker.runner import Runner
from zerog.worker.signals import StopFlags

log = logging.getLogger(__name__)

MIN_IDLE_SECONDS = 0.01  # first idle poll; doubles up to the poll interval.


def make_worker_id() -> str:
    """host-pid-random: unique per worker process, readable in history and logs."""
    return f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"


class Worker:
    """Runs jobs from ``queues`` (in priority order) on ``threads`` threads."""

    def __init__(
        self,
        store: Store,
        queues: Sequence[str],
        threads: int = 1,
        burst: bool = False,
        worker_id: str | None = None,
        flags: StopFlags | None = None,
    ) -> None:
        if not queues:
            raise ValueError("a worker needs at least one queue")
        self.store = store
        self.queues = list(queues)
        self.threads = max(1, int(threads))
        self.burst = burst
        self.worker_id = worker_id or make_worker_id()
        self.flags = flags or StopFlags()
        self.heartbeat = Heartbeat(store, store.settings.rescue_interval_seconds)
        self.runner = Runner(store, self.heartbeat.watch, self.heartbeat.unwatch)
        self.processed = 0
        self._count_lock = threading.Lock()
        self._consumers: list[threading.Thread] = []

    def run(self) -> int:
        """Work until drained (or, with ``burst``, until nothing is ready); returns how many
        jobs this worker settled."""
        log.info(
            "worker %s on %s with %d thread(s)", self.worker_id, ",".join(self.queues), self.threads
        )
        self.store.rescue_expired()
        self.heartbeat.start()
        self._consumers = [
            threading.Thread(target=self._consume, name=f"zerog-consumer-{k}", daemon=True)
            for k in range(self.threads)
        ]
        for thread in self._consumers:
            thread.start()
        try:
            self._wait()
        finally:
            self._release_running()
            self.heartbeat.stop()
        return self.processed

    def _wait(self) -> None:
        """Wait for consumers; once draining, give them the grace period, no more."""
        deadline: float | None = None
        while any(t.is_alive() for t in self._consumers):
            if self.flags.draining.is_set() and deadline is None:
                deadline = time.monotonic() + self.store.settings.grace_seconds
                log.info(
                    "draining: waiting up to %.0f s for running jobs",
                    self.store.settings.grace_seconds,
                )
                self.store.wake()
            if self.flags.now.is_set() or (deadline is not None and time.monotonic() > deadline):
                return
            for thread in self._consumers:
                thread.join(timeout=0.1)

    def _release_running(self) -> None:
        """Give back what still runs after the grace period, with its checkpoint."""
        for context in self.heartbeat.running():
            context.lost = True  # the job's thread may go on; its writes are no longer ours.
            try:
                self.store.release(context.lease, context.take(context.job.dump_values()))
                log.warning(
                    "released job %s at shutdown",
                    context.lease.uuid,
                    extra={"event": "job.released", "job_id": context.lease.uuid},
                )
            except BackendError as exc:
                log.warning("could not release job %s: %s", context.lease.uuid, exc)

    def _consume(self) -> None:
        idle = MIN_IDLE_SECONDS
        following: Reservation | None = None
        while not self.flags.draining.is_set() or following is not None:
            reservation, following = following or self._reserve(), None
            if reservation is None:
                if self.burst:
                    return
                self.store.wait_for_work(idle)
                idle = min(idle * 2, self.store.settings.poll_interval_seconds)
                continue
            idle = MIN_IDLE_SECONDS
            try:
                following = self.runner.execute(reservation, self._next_queues).next
            except BackendError:  # the lease will expire and the job be rescued: not lost.
                log.exception("settling job %s failed", reservation.lease.uuid)
            with self._count_lock:
                self.processed += 1

    def _reserve(self) -> Reservation | None:
        try:
            return self.store.reserve(self.queues, self.worker_id)
        except BackendError:
            log.exception("reserve failed; retrying")
            return None

    def _next_queues(self) -> list[str] | None:
        """Reserve the next job with the settlement unless draining (then reserve nothing)."""
        return None if self.flags.draining.is_set() else self.queues

    def stop(self, now: bool = False) -> None:
        """Ask the worker to drain (or, with ``now``, to stop at once)."""
        self.flags.request()
        if now:
            self.flags.request()
        self.store.wake()
