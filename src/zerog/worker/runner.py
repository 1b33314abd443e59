"""Run one reserved job and decide, once, how its run ends: the settlement the worker writes.

The outcome of ``run()`` decides the settlement: a ``(resume_at, requeue)`` tuple completes or
requeues it, ``Advance`` moves it on to the next queue of a pipeline, ``WFErrorFinish`` fails
it, ``WFErrorContinue`` or any other exception retries it with exponential backoff and jitter
until its retries are used up, an operator's cancel or pause ends it cancelled or paused. If
the lease was lost meanwhile, nothing is settled: the job belongs to whoever holds it now.
The runner writes nothing itself; the worker loop writes each settlement (one write path, see
:meth:`zerog.store.Store.settle_batch`).
"""

from __future__ import annotations

import logging
import random
import time
import traceback
from collections.abc import Callable
from dataclasses import replace
from typing import Any, NamedTuple

from zerog import deferrable as _deferrable  # noqa: F401 - every face's kind of job runs in
from zerog import qless as _qless  # noqa: F401 - every worker (they register with zerog.kinds).
from zerog import run_context
from zerog.errors import (
    Advance,
    BackendError,
    InvalidOptions,
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
from zerog.store import Store
from zerog.worker import isolate, lifelog
from zerog.worker.outcome import Failure, Returned, parse_return
from zerog.worker.reload import Reloader
from zerog.worker.usage import Meter, with_usage

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
        threads: int = 1,
    ) -> None:
        self.store = store
        self.threads = threads  # job threads of the process: what a run's memory figures mean.
        Meter.prepare(threads)
        self._config_read: tuple[float, dict[str, Any]] = (float("-inf"), {})
        self._watch = watch
        self._unwatch = unwatch
        self.reloader = reloader  # reloads a job's module whose file changed, before the job.
        self.on_ended: Callable[[Reservation, Ended], None] | None = None  # the webhook's.

    def execute(self, reservation: Reservation) -> Ended:
        """Run the reserved job and decide how its run ends; nothing is written here (the
        worker writes the settlement, with others and with its next claims). A job that
        cannot be loaded fails; a run whose lease was lost meanwhile ends with no
        settlement: the job belongs to whoever holds it now."""
        since = lifelog.started(reservation.record)  # one line at start, one at the end.
        ended = self._execute(reservation)
        lifelog.ended(reservation.record, ended.settlement, since)
        if self.on_ended is not None:
            self.on_ended(reservation, ended)
        return ended

    def _execute(self, reservation: Reservation) -> Ended:
        lease, record = reservation.lease, reservation.record
        try:
            if self.reloader is not None:
                self.reloader.refresh(record["type"])
            job = job_from_record(record)
        except Exception as exc:  # unknown type, bad stored values, a failing __init__.
            error = error_entry(
                self.store.clock(), None, f"cannot load the job: {exc}", traceback.format_exc()
            )
            return Ended(lease, Settlement.failed(error))
        context = RunContext(
            self.store,
            lease,
            job,
            float(record["ttr_seconds"]),
            queue=record["queue"],
            stall_seconds=record.get("stall_seconds"),
            stall_policy=record.get("stall_policy"),
            messages_waiting=bool(record.get("inbox")),
        )
        self._watch(context)
        run_context.bind(context)
        try:
            outcome, figures = self._run_measured(context, record)
        finally:
            run_context.bind(None)
            self._unwatch(context)
        settlement = self._settlement(context, record, outcome)
        return Ended(lease, with_usage(settlement, figures))

    def _run_measured(
        self, context: RunContext, record: dict[str, Any]
    ) -> tuple[Returned | Failure, dict[str, Any]]:
        """Run the job on this thread, or in a process of its own when it, its class or its
        queue asks (see :mod:`zerog.worker.isolate`); with the attempt's figures."""
        policy = isolate.policy_of(context.job, record, self._config())
        meter = Meter(self.threads)
        if not policy.isolate:
            return self._run(context.job), meter.read()
        try:
            return isolate.run_isolated(context, policy.limit_bytes)
        except OSError as exc:  # no process to be had (fork refused): the attempt fails.
            return Failure(exc, traceback.format_exc()), meter.read()

    def _config(self) -> dict[str, Any]:
        """The store's config as a run's policy reads it: copied from the store's cache at
        most once a second, not at every job (a queue's isolation changes that fast)."""
        read_at, config = self._config_read
        now = time.monotonic()
        if now - read_at >= 1.0:
            config = self.store.config()
            self._config_read = (now, config)
        return config

    def write_alone(self, ended: Ended) -> str:
        """Write one run's settlement by itself; returns the event written. A refused
        pipeline step (its dependencies unknown, or a cycle) fails the job instead; a lost
        lease or a backend error writes nothing (the job is someone else's, or its lease
        expires and it is rescued)."""
        settlement = ended.settlement
        if settlement is None:
            return ended.event
        try:
            self.store.settle(ended.lease, settlement)
        except ReservationLost:
            log.warning("job %s: lease lost before settling (%s)", ended.lease.uuid, ended.event)
            return "lease-lost"
        except InvalidOptions as exc:
            error = error_entry(self.store.clock(), None, f"{ended.event} refused: {exc}")
            return self.write_alone(
                Ended(ended.lease, Settlement.failed(error, settlement.progress))
            )
        except BackendError:  # the lease will expire and the job be rescued: not lost.
            log.exception("settling job %s failed", ended.lease.uuid)
            return "unwritten"
        return settlement.event

    @staticmethod
    def _run(job: BaseJob) -> Returned | Failure:
        try:
            return parse_return(job.run())
        except (JobOutcome, Exception) as exc:  # the job's failure is data for _settlement.
            return Failure(exc, traceback.format_exc())

    def _settlement(
        self, context: RunContext, record: dict[str, Any], outcome: Returned | Failure
    ) -> Settlement | None:
        if context.lost or (isinstance(outcome, Failure) and isinstance(outcome.exc, LeaseLost)):
            log.warning("job %s: lease lost, not settling", context.lease.uuid)
            return None
        progress = context.take()
        if isinstance(outcome, Failure):
            return self._after_error(context, record, outcome, progress)
        values = context.job.dump_values()  # the fields as they end: the checkpoint.
        if outcome.requeue:
            delay = max(0.0, outcome.resume_at - time.time())
            return Settlement.requeued(delay, _with_values(progress, values))
        job = context.job
        return Settlement.completed(job.result, job.resultCode, _with_values(progress, values))

    def _after_error(
        self,
        context: RunContext,
        record: dict[str, Any],
        failure: Failure,
        progress: Progress | None,
    ) -> Settlement:
        exc = failure.exc
        if isinstance(exc, JobCancelled):
            return Settlement.cancelled(progress)
        values = context.job.dump_values()
        if isinstance(exc, JobPaused):
            return Settlement.paused(_with_values(progress, values))
        if isinstance(exc, Advance):  # qless's complete(next): on to the pipeline's next queue.
            progress = _with_values(progress, values)
            return Settlement.advanced(exc.queue, exc.delay_seconds, exc.depends, progress)
        error = self._error_of(failure)
        if isinstance(exc, WFErrorFinish):
            return Settlement.failed(error, progress, exc.error_code)
        if record["attempts"] > record["max_retries"]:
            return Settlement.failed(error, progress)
        delay = self._backoff(context.job, record["attempts"])
        return Settlement.retried(delay, error, progress)

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


class Ended(NamedTuple):
    """How a run ended: its lease, and the settlement to write (None: the lease was lost,
    nothing is to be written)."""

    lease: Lease
    settlement: Settlement | None

    @property
    def event(self) -> str:
        """The history event the settlement writes, or ``lease-lost``."""
        return "lease-lost" if self.settlement is None else self.settlement.event


def _with_values(progress: Progress | None, values: dict[str, Any]) -> Progress:
    """The progress to settle with, carrying the job's fields as its checkpoint."""
    if progress is None:
        return Progress(values=values)
    return replace(progress, values=values)
