"""What one running job knows about its run: its lease, buffered progress, operator requests.

``job_log`` calls come from the job's thread; the worker's heartbeat thread flushes what they
buffered and renews the lease. Progress writes are coalesced (at most one every
``PROGRESS_FLUSH_SECONDS``) so a chatty job cannot flood the store, and nothing buffered is lost:
whatever is pending when the run ends goes out with the settlement.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from zerog import settings
from zerog.errors import JobCancelled, JobPaused, LeaseLost, ReservationLost
from zerog.model import Control, Lease, Progress
from zerog.record import clamp_completeness, event_entry

if TYPE_CHECKING:
    from zerog.jobs import BaseJob
    from zerog.store import Store

log = logging.getLogger(__name__)


class RunContext:
    """The link between a running job, its lease and the store."""

    def __init__(
        self,
        store: Store,
        lease: Lease,
        job: BaseJob,
        ttr_seconds: float,
        *,
        queue: str = "",
        stall_seconds: float | None = None,
        stall_policy: str | None = None,
        messages_waiting: bool = False,
    ) -> None:
        self.store = store
        self.lease = lease
        self.job = job
        self.ttr_seconds = ttr_seconds
        self.queue = queue
        self.stall_seconds = stall_seconds  # the job's own stall threshold (zerog.stalls).
        self.control = Control.NONE
        self.lost = False
        self.last_write = time.monotonic()
        self.stall_policy = stall_policy  # the job's own stall policy (zerog.stalls).
        self.last_report = self.last_write  # when the job last reported anything (monotonic).
        self.progressed_at: float | None = None  # when its completeness last moved (monotonic).
        self._reported_completeness: float | None = None
        self.stall_logged = False  # the worker handles a stall once, until the job progresses.
        self._lock = threading.Lock()
        self._events: list[dict[str, Any]] = []
        self._errors: list[dict[str, Any]] = []
        self._completeness: float | None = None
        self._message: str | None = None
        self._values: dict[str, Any] | None = None
        self._last_completeness_write = float("-inf")
        self._track = (0.0, 1.0, 1, 0)  # start, end, intervals, current interval.
        self._messages_waiting = messages_waiting  # sent before this run: take them first.
        self._inbox: list[dict[str, Any]] = []  # messages taken, not yet read by the job.
        self.on_message: list[Callable[[dict[str, Any]], None]] = []

    # --- what job_log records ----------------------------------------------------------------

    def set_completeness(
        self, value: float, enforce_min_interval: bool = False, message: str | None = None
    ) -> None:
        """Record progress; with ``enforce_min_interval`` it is stored at most every 2 s
        (the latest value is kept and written when the interval has passed)."""
        with self._lock:
            self._completeness = clamp_completeness(value)
            if message is not None:
                self._message = message
        if not enforce_min_interval or self._min_interval_passed():
            self.flush(force=False)

    def _min_interval_passed(self) -> bool:
        gap = time.monotonic() - self._last_completeness_write
        return gap >= settings.MIN_PROGRESS_INTERVAL_SECONDS

    def track(self, start: float, end: float, intervals: float) -> None:
        """Steps from ``start`` to ``end`` in ``intervals`` increments."""
        with self._lock:
            self._track = (float(start), float(end), max(1, int(intervals)), 0)

    def increment(self) -> None:
        """One step done: completeness moves one interval towards ``end``."""
        with self._lock:
            start, end, intervals, current = self._track
            current = min(current + 1, intervals)
            self._track = (start, end, intervals, current)
            value = start + (end - start) * current / intervals
        self.set_completeness(value)

    def info(self, msg: str) -> None:
        """A log line on the job."""
        with self._lock:
            self._events.append(event_entry(self.store.clock(), msg))
        self.flush(force=False)

    def checkpoint(self) -> None:
        """Save the job's fields now; ReservationLost when the store refused the write (the
        lease is gone: another worker may run the job, so this run must stop before its
        next side effect)."""
        with self._lock:
            self._values = self.job.dump_values()
        self.flush(force=True)
        if self.lost:
            raise ReservationLost(self.lease.uuid, self.lease.token)

    # --- talking to the store ----------------------------------------------------------------

    def lease_ttr(self) -> float:
        """How long the lease lasts after each renewal."""
        return self.ttr_seconds

    def take(self, values: dict[str, Any] | None = None) -> Progress | None:
        """Everything buffered, as one Progress (emptying the buffer); None if nothing."""
        with self._lock:
            completeness = self._completeness
            sample = None if completeness is None else (self.store.clock(), completeness)
            progress = Progress(
                completeness=completeness,
                message=self._message,
                sample=sample,
                events=self._events,
                errors=self._errors,
                values=values if values is not None else self._values,
                max_events=settings.MAX_EVENTS,
                max_errors=settings.MAX_ERRORS,
            )
            self._events, self._errors = [], []
            self._completeness = self._message = self._values = None
        if completeness is not None:
            self._last_completeness_write = time.monotonic()
        if progress.empty:
            return None
        self.reported(completeness)
        return progress

    def reported(self, completeness: float | None) -> None:
        """A report went out: note when, and when the completeness last moved. A stall is
        no progress for the window (zerog.stalls): a run that reported a completeness is
        judged by it, one that never did by any report."""
        now = time.monotonic()
        self.last_report = now
        if completeness is not None and completeness != self._reported_completeness:
            self._reported_completeness = completeness
            self.progressed_at = now
            self.stall_logged = False
        elif self.progressed_at is None:
            self.stall_logged = False

    def quiet_since(self) -> float:
        """When this run last progressed (monotonic): its completeness's last move, or its
        last report of any kind when it never reported a completeness."""
        return self.last_report if self.progressed_at is None else self.progressed_at

    def flush(self, force: bool) -> None:
        """Write buffered progress if due (or ``force``); renews the lease as it writes."""
        if self.lost or (
            not force and time.monotonic() - self.last_write < settings.PROGRESS_FLUSH_SECONDS
        ):
            return
        progress = self.take()
        if progress is not None:
            self._answer(lambda: self.store.save(self.lease, progress))

    def touch(self) -> None:
        """Renew the lease (or write pending progress, which renews it too)."""
        if self.lost:
            return
        progress = self.take()
        if progress is None:
            self._answer(lambda: self.store.heartbeat(self.lease))
        else:
            self._answer(lambda: self.store.save(self.lease, progress))

    def _answer(self, call: Any) -> None:
        try:
            self.control = call()
            self.last_write = time.monotonic()
            if self.control == Control.MESSAGE or self._messages_waiting:
                self._take_messages()
                if self.control == Control.MESSAGE:  # taken: the store asks nothing now.
                    self.control = Control.NONE
        except ReservationLost:
            self.lost = True
            log.warning(
                "lost the lease on job %s",
                self.lease.uuid,
                extra={"event": "job.lease_lost", "job_id": self.lease.uuid},
            )

    # --- messages (zerog.inbox) ----------------------------------------------------------------

    def _take_messages(self) -> None:
        """Take the job's inbox from the store into this run's (the heartbeat said some wait)."""
        taken = self.store.take_messages(self.lease)
        self._messages_waiting = False
        if taken:
            with self._lock:
                self._inbox.extend(taken)

    def messages(self) -> list[dict[str, Any]]:
        """The messages taken since the last call, oldest first (emptied). Those sent before
        the run began are taken now, rather than at the first heartbeat."""
        if self._messages_waiting and not self.lost:
            try:
                self._take_messages()
            except ReservationLost:
                self.lost = True
        with self._lock:
            taken, self._inbox = self._inbox, []
        return taken

    def deliver(self) -> None:
        """Hand the messages taken to the ``on_message`` callbacks, in the job's thread (the
        caller's): a callback never runs beside the job's own code."""
        if self.on_message:
            for message in self.messages():
                for callback in list(self.on_message):
                    callback(message)

    def check(self) -> None:
        """Raise the outcome an operator asked for (or lease loss) in the job's thread."""
        if self.lost:
            raise LeaseLost("this worker lost the job's lease; another worker may run it")
        if self.control == Control.CANCEL:
            raise JobCancelled("cancelled by an operator")
        if self.control == Control.PAUSE:
            raise JobPaused("paused by an operator")


_local = threading.local()


def current() -> RunContext | None:
    """The run context of the job this thread is running, if any."""
    return getattr(_local, "context", None)


def bind(context: RunContext | None) -> None:
    """Make ``context`` this thread's current run (None to unbind)."""
    _local.context = context
