"""Run one reserved job and settle it exactly once.

The outcome of ``run()`` decides the settlement: a ``(resume_at, requeue)`` tuple completes or
requeues it, ``Advance`` moves it on to the next queue of a pipeline, ``WFErrorFinish`` fails
it, ``WFErrorContinue`` or any other exception retries it with exponential backoff and jitter
until its retries are used up, an operator's cancel or pause ends it cancelled or paused. If
the lease was lost meanwhile, nothing is settled: the job belongs to whoever holds it now.
"""

from __future__ import annotations

import logging
import random
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, NamedTuple

from zerog import run_context
from zerog.errors import (
    Advance,
    JobCancelled,
    JobOutcome,
    JobPaused,
    LeaseLost,
    ReservationLost,
    WFErrorFinish,
)
from zerog.jobs import BaseJob, job_from_record
from zerog.model import Lease, Progress, Reservation, Settlement
from zerog.record import error_entry
from zerog.run_context import RunContext
from zerog.store import Next, Store
from zerog.worker.reload import Reloader

log = logging.getLogger(__name__)


def backoff_seconds(attempt: int, base: float, cap: float) -> float:
    """Delay before retry number ``attempt`` (1, 2, ...): doubling from ``base`` up to
    ``cap``, with ±25% jitter so retries of many jobs that failed together spread out."""
    delay = min(cap, base * 2 ** max(0, attempt - 1))
    return float(delay * random.uniform(0.75, 1.25))


class Runner:
    """Runs reservations for one worker; ``watch`` and ``unwatch`` hook the heartbeat."""

    def __init__(
        self,
        store: Store,
        watch: Callable[[RunContext], None],
        unwatch: Callable[[RunContext], None],
        reloader: Reloader | None = None,
    ) -> None:
        self.store = store
        self._watch = watch
        self._unwatch = unwatch
        self.reloader = reloader  # reloads a job's module whose file changed, before the job.

    def execute(
        self, reservation: Reservation, then: NextQueues = None, defer: bool = False
    ) -> Settled:
        """Run the reserved job and settle it; returns the settlement's history event and,
        when ``then()`` names queues at settle time, the worker's next job reserved in the same
        step (a worker that is draining answers None and reserves nothing). With ``defer``, a
        run that completes is not written: its settlement is returned, for the worker to
        write with others (:meth:`Store.settle_batch`)."""
        lease, record = reservation.lease, reservation.record
        try:
            if self.reloader is not None:
                self.reloader.refresh(record["type"])
            job = job_from_record(record)
        except Exception as exc:  # unknown type, bad stored values, a failing __init__.
            error = error_entry(
                self.store.clock(), None, f"cannot load the job: {exc}", traceback.format_exc()
            )
            return self._settle_safely(
                lambda: self.store.fail(lease, error, then_reserve=_queues(then)), "failed"
            )
        context = RunContext(
            self.store,
            lease,
            job,
            float(record["ttr_seconds"]),
            queue=record["queue"],
            stall_seconds=record.get("stall_seconds"),
        )
        context.then = then
        context.defer = defer
        self._watch(context)
        run_context.bind(context)
        try:
            outcome = self._run(job)
        finally:
            run_context.bind(None)
            self._unwatch(context)
        return self._settle(context, record, outcome)

    @staticmethod
    def _run(job: BaseJob) -> Returned | Failure:
        try:
            return _parse_return(job.run())
        except (JobOutcome, Exception) as exc:  # the job's failure is data for _settle.
            return Failure(exc, traceback.format_exc())

    def _settle(
        self, context: RunContext, record: dict[str, Any], outcome: Returned | Failure
    ) -> Settled:
        if context.lost or (isinstance(outcome, Failure) and isinstance(outcome.exc, LeaseLost)):
            log.warning("job %s: lease lost, not settling", context.lease.uuid)
            return Settled("lease-lost", None)
        progress = context.take()
        if isinstance(outcome, Failure):
            return self._settle_error(context, record, outcome, progress)
        return self._settle_return(context, outcome, progress)

    def _settle_return(
        self, context: RunContext, outcome: Returned, progress: Progress | None
    ) -> Settled:
        lease, job = context.lease, context.job
        resume_at, requeue = outcome.resume_at, outcome.requeue
        progress = _with_values(progress, job.dump_values())  # the fields as they end.
        if requeue:
            delay = max(0.0, resume_at - time.time())
            return self._settle_safely(
                lambda: self.store.requeue(lease, delay, progress, _queues(context.then)),
                "requeued",
            )
        if context.defer:
            settlement = self.store.completion(job.result, job.resultCode, progress)
            return Settled("completed", None, (lease, settlement))
        return self._settle_safely(
            lambda: self.store.complete(
                lease, job.result, job.resultCode, progress, _queues(context.then)
            ),
            "completed",
        )

    def _settle_error(
        self,
        context: RunContext,
        record: dict[str, Any],
        failure: Failure,
        progress: Progress | None,
    ) -> Settled:
        lease, exc = context.lease, failure.exc
        if isinstance(exc, JobCancelled):
            return self._settle_safely(
                lambda: self.store.finish_cancelled(lease, progress, _queues(context.then)),
                "cancelled",
            )
        if isinstance(exc, JobPaused):
            progress = _with_values(progress, context.job.dump_values())
            return self._settle_safely(
                lambda: self.store.finish_paused(lease, progress, _queues(context.then)), "paused"
            )
        if isinstance(exc, Advance):
            return self._advance(context, exc, _with_values(progress, context.job.dump_values()))
        error = self._error_of(failure)
        if isinstance(exc, WFErrorFinish):
            return self._settle_safely(
                lambda: self.store.fail(
                    lease, error, progress, exc.error_code, _queues(context.then)
                ),
                "failed",
            )
        if record["attempts"] > record["max_retries"]:
            return self._settle_safely(
                lambda: self.store.fail(lease, error, progress, then_reserve=_queues(context.then)),
                "failed",
            )
        delay = self._backoff(context.job, record["attempts"])
        return self._settle_safely(
            lambda: self.store.retry(lease, delay, error, progress, _queues(context.then)),
            "retried",
        )

    def _advance(self, context: RunContext, step: Advance, progress: Progress) -> Settled:
        """A pipeline step is done (qless's complete(next)): the job, its values as they
        end, goes on in the next queue."""
        return self._settle_safely(
            lambda: self.store.advance(
                context.lease,
                step.queue,
                step.delay_seconds,
                step.depends,
                progress,
                _queues(context.then),
            ),
            "advanced",
        )

    def _error_of(self, failure: Failure) -> dict[str, Any] | None:
        """The error to store: a job's own outcome as it worded it, anything else with its
        traceback; None for job_log.error_log_only, which the seed keeps off the record."""
        exc, now = failure.exc, self.store.clock()
        if isinstance(exc, JobOutcome):
            message = exc.message or type(exc).__name__
            return error_entry(now, exc.error_code, message) if exc.store_error else None
        return error_entry(now, None, f"{type(exc).__name__}: {exc}", failure.traceback)

    def _backoff(self, job: BaseJob, attempt: int) -> float:
        chosen = job.retry_delay(attempt)
        if chosen is not None:
            return chosen
        base = job.RETRY_BACKOFF_SECONDS
        if base is None:
            base = self.store.settings.backoff_base_seconds
        return backoff_seconds(attempt, base, self.store.settings.backoff_cap_seconds)

    @staticmethod
    def _settle_safely(settle: Callable[[], Next], event: str) -> Settled:
        try:
            following = settle()
        except ReservationLost as exc:
            log.warning("job %s: lease lost before settling (%s)", exc.uuid, event)
            return Settled("lease-lost", None)
        return Settled(event, following)


NextQueues = Callable[[], Sequence[str] | None] | None
"""Asked at settle time: the queues to reserve the worker's next job from, or None."""


class Settled(NamedTuple):
    """How a run was settled (its history event) and the next job, if one was reserved; or,
    for a deferred completion, the settlement still to write."""

    event: str
    next: Reservation | None
    deferred: tuple[Lease, Settlement] | None = None


def _queues(then: NextQueues) -> Sequence[str] | None:
    return then() if then is not None else None


@dataclass(frozen=True)
class Returned:
    """run() returned: resume at this epoch time if ``requeue``, else the job is done."""

    resume_at: float
    requeue: bool


@dataclass(frozen=True)
class Failure:
    """run() raised: the exception and its formatted traceback."""

    exc: BaseException
    traceback: str


def _parse_return(outcome: Any) -> Returned:
    """run() returns ``(resume_at, requeue)``; None means done."""
    if outcome is None:
        return Returned(time.time(), False)
    try:
        resume_at, requeue = outcome
        return Returned(float(resume_at), bool(requeue))
    except (TypeError, ValueError):
        raise TypeError(
            f"run() must return (resume_at_epoch_seconds, requeue), not {outcome!r}"
        ) from None


def _with_values(progress: Progress | None, values: dict[str, Any]) -> Progress:
    """The progress to settle with, carrying the job's fields as its checkpoint."""
    if progress is None:
        return Progress(values=values)
    return replace(progress, values=values)
