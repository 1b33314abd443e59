"""A consumer's run-ahead: jobs claimed but not started, and runs finished but not written.

A worker running short jobs one write each spends most of its time committing. So each
consumer thread claims several jobs at once and writes their completions together with the
next claims: one transaction (and, on beanstalkd, one round trip) per batch instead of one
per job. Long-running jobs are what zerog is for, so the batch is earned, never assumed:

- It starts at one job, and doubles (up to ``--batch``) only while every run is shorter than
  ``SHORT_RUN_SECONDS``; one longer run sets it back to one. It never holds more than about
  ``BATCH_SECONDS`` of work (at the last batch's mean run time), so a job of higher priority
  put meanwhile waits no longer than that for a worker busy with a batch.
- Nothing waits long in it: once its oldest item is ``SPILL_SECONDS`` old (a job of the
  batch turned out long), the heartbeat thread writes the finished runs and gives the
  unstarted jobs back to the queue, their attempt refunded, for other workers to take.

What a crash costs is what it costs without batching, bounded by the batch: claimed jobs
are rescued when their leases expire, and finished runs not yet written run again (zerog
runs a job at least once, never twice at the same time).
"""

from __future__ import annotations

import threading
import time
from collections import deque

from zerog.model import Lease, Reservation, Settlement

DEFAULT_BATCH = 64  # a consumer claims at most this many jobs at once (``--batch``)...
BATCH_SECONDS = 0.025  # ...and no more than about this much work, at the runs' mean so far.
SHORT_RUN_SECONDS = 0.01  # runs shorter than this let the batch grow.
SPILL_SECONDS = 0.5  # nothing stays in a batch longer than about this (plus a heartbeat tick).

Finished = tuple[Lease, Settlement]


class RunAhead:
    """One consumer thread's batch. The consumer adds and takes between runs; the heartbeat
    thread may spill it while a run goes on; ``lock`` keeps the two apart."""

    def __init__(self, limit: int) -> None:
        self.limit = max(1, limit)
        self.size = 1  # how many jobs the last claim asked for.
        self._runs = 0  # runs since the last claim...
        self._spent = 0.0  # ...the time they took...
        self._slow = False  # ...and whether one of them was not short.
        self.lock = threading.Lock()
        self.ahead: deque[Reservation] = deque()
        self.done: list[Finished] = []
        self._since: float | None = None  # monotonic time the oldest item entered...
        self._patience = SPILL_SECONDS  # ...and how long it may wait (a third of a short TTR).

    def next(self) -> Reservation | None:
        """The next claimed job to run, if any is left."""
        with self.lock:
            if not self.ahead:
                return None
            reservation = self.ahead.popleft()
            self._settle_age()
            return reservation

    def claimed(self, reservations: list[Reservation]) -> None:
        """Jobs just claimed, to run in order (call with ``lock`` held)."""
        self.ahead.extend(reservations)
        if reservations and self._since is None:
            self._since = time.monotonic()
        for reservation in reservations:
            ttr = float(reservation.record["ttr_seconds"])
            self._patience = min(self._patience, ttr / 3)

    def finished(self, item: Finished) -> None:
        """A run ended; its settlement is written with the next claim."""
        with self.lock:
            self.done.append(item)
            if self._since is None:
                self._since = time.monotonic()

    def take_done(self) -> list[Finished]:
        """The finished runs, handed over for writing (call with ``lock`` held)."""
        done, self.done = self.done, []
        self._settle_age()
        return done

    def take_ahead(self) -> list[Reservation]:
        """The unstarted jobs, handed over for giving back (call with ``lock`` held)."""
        ahead = list(self.ahead)
        self.ahead.clear()
        self._settle_age()
        return ahead

    def ran(self, seconds: float) -> None:
        """A run took this long."""
        self._runs += 1
        self._spent += seconds
        self._slow = self._slow or seconds >= SHORT_RUN_SECONDS

    def next_size(self) -> int:
        """How many jobs to claim next: twice the last claim when its runs were all short
        (within the limit and ``BATCH_SECONDS`` of work), one after a run that was not."""
        if self._slow:
            self.size = 1
        elif self._runs:
            fits = int(BATCH_SECONDS * self._runs / max(self._spent, 1e-6))
            self.size = max(1, min(self.size * 2, self.limit, fits))
        self._runs, self._spent, self._slow = 0, 0.0, False
        return self.size

    def empty(self) -> bool:
        """Nothing claimed ahead and nothing waiting to be written."""
        return not self.ahead and not self.done

    def stale(self, now: float | None = None) -> bool:
        """Whether the oldest item has waited past ``SPILL_SECONDS`` (or a third of the
        shortest TTR among the jobs claimed, when that is less)."""
        since = self._since
        return since is not None and (now or time.monotonic()) - since >= self._patience

    def _settle_age(self) -> None:
        """The age clock runs from the first item in until the batch is empty again."""
        if not self.ahead and not self.done:
            self._since, self._patience = None, SPILL_SECONDS
