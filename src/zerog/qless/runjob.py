"""qless jobs run by ``zerog worker``: a job class for records of kind ``qless``.

The worker builds a qless :class:`~zerog.qless.job.Job` bound to its own lease and calls
``process()``. What the job's method does is recorded, not written at once, and the worker's
runner settles it exactly once, the same way as any other job (with the next job reserved in
the same step):

- ``complete()`` completes it; ``complete('next')`` moves it on to that queue
  (:class:`~zerog.errors.Advance`, values kept, retries afresh);
- ``fail(group, message)`` fails it (the error reads ``"<group>: <message>"``);
- ``retry(delay)`` puts it back after ``delay`` seconds, or fails it as
  ``failed-retries-<queue>`` once its retries are used up;
- an exception fails it as ``<queue>-<ExceptionName>`` with the traceback, unless the
  method is wrapped in ``qless.retry(...)`` for that exception, which retries it;
- a method that returns without doing any of these: the job is completed, and a warning
  is logged and written to the job's events (qless would leave it running until its lock
  expired and then retry it; zerog takes the return as "done").

``heartbeat()`` renews the lease through the worker (saving the data) and raises
LostLockError once the lease is lost or an operator cancelled or paused the job.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from zerog import job_log, kinds, run_context
from zerog.errors import (
    Advance,
    JobCancelled,
    JobPaused,
    LeaseLost,
    LostLockError,
    WFErrorContinue,
    WFErrorFinish,
    ZerogError,
)
from zerog.jobs import BaseJob
from zerog.model import Control, Record
from zerog.qless.data import to_values
from zerog.qless.failure import exhausted, failure_message
from zerog.qless.hold import retries_left_after_retry, state_after_step
from zerog.qless.job import Job
from zerog.run_context import RunContext

log = logging.getLogger(__name__)

NOT_SETTLED = "process() returned without complete, fail or retry: the job is completed"


@dataclass(frozen=True)
class Outcome:
    """What the job's method asked for; the runner settles it."""

    kind: str  # complete, advance, fail, retry or cancel
    queue: str | None = None
    delay: float = 0.0
    depends: Sequence[str] = field(default_factory=tuple)
    group: str | None = None
    message: str | None = None


class WorkerHold:
    """A job run by a zerog worker: the first outcome is recorded, later ones refused."""

    def __init__(self, context: RunContext) -> None:
        self.context = context
        self.outcome: Outcome | None = None

    def _record(self, job: Job, outcome: Outcome) -> None:
        if self.outcome is not None:
            raise LostLockError(job.jid, f"it was already settled ({self.outcome.kind})")
        self.outcome = outcome

    def heartbeat(self, job: Job) -> float:
        if self.outcome is not None:
            raise LostLockError(job.jid, f"it was already settled ({self.outcome.kind})")
        self.context.checkpoint()  # writes the data and renews the lease.
        if self.context.lost:
            raise LostLockError(job.jid, "the worker's lease is gone", self.context.lease.token)
        if self.context.control.stops:
            raise LostLockError(job.jid, f"an operator asked to {self.context.control.value} it")
        return float(self.context.store.clock()) + self.context.ttr_seconds

    def complete(
        self, job: Job, next_queue: str | None, delay: float, depends: Sequence[str]
    ) -> str:
        if next_queue is None:
            self._record(job, Outcome("complete"))
            return "complete"
        self._record(job, Outcome("advance", next_queue, delay, tuple(depends)))
        return state_after_step(delay, depends)

    def fail(self, job: Job, group: str, message: str) -> str:
        self._record(job, Outcome("fail", group=group, message=message))
        return job.jid

    def retry(self, job: Job, delay: float, group: str | None, message: str | None) -> int:
        self._record(job, Outcome("retry", delay=delay, group=group, message=message))
        return retries_left_after_retry(job)

    def cancel(self, job: Job) -> None:
        self._record(job, Outcome("cancel"))


class QlessRunJob(BaseJob):
    """Runs one qless job under a zerog worker (see the module docstring)."""

    def __init__(self, record: Record) -> None:
        super().__init__(uuid=record["uuid"])
        self.record = record
        self.qless_job: Job | None = None
        self._retry_delay: float | None = None
        self._load_status(record)

    @classmethod
    def from_record(cls, record: Record) -> QlessRunJob:
        """The runnable job of a stored qless job."""
        return cls(record)

    def dump_values(self) -> dict[str, Any]:
        """The job's data as it is now (qless saves it with every settlement)."""
        if self.qless_job is None:
            return dict(self.record["values"])
        return to_values(self.qless_job.data)

    def run(self) -> tuple[float, bool]:
        from zerog.qless.client import Client

        context = run_context.current()
        if context is None:
            raise ZerogError("a qless job runs under a zerog worker (or zerog.testing.drain)")
        hold = WorkerHold(context)
        client = Client(store=context.store, hostname=context.lease.worker)
        self.qless_job = Job(client, self.record, hold)
        self.qless_job.process()
        return self._follow(context, hold.outcome)

    def _follow(self, context: RunContext, outcome: Outcome | None) -> tuple[float, bool]:
        if context.lost:
            raise LeaseLost("the worker lost the job's lease")
        if context.control == Control.CANCEL or (outcome and outcome.kind == "cancel"):
            raise JobCancelled("cancelled")
        if context.control == Control.PAUSE:
            raise JobPaused("paused by an operator")
        if outcome is None:
            log.warning("job %s: %s", self.uuid, NOT_SETTLED, extra={"job_id": self.uuid})
            job_log.info(f"warning: {NOT_SETTLED}")
            return time.time(), False
        if outcome.kind == "advance" and outcome.queue is not None:
            raise Advance(outcome.queue, outcome.delay, outcome.depends)
        if outcome.kind == "fail":
            self._fail(context, outcome.group or "failed", outcome.message or "")
        if outcome.kind == "retry":
            self._retry(context, outcome)
        return time.time(), False

    def _fail(self, context: RunContext, group: str, message: str) -> None:
        context.checkpoint()  # qless saves the data with a failure.
        raise WFErrorFinish(failure_message(group, message))

    def _retry(self, context: RunContext, outcome: Outcome) -> None:
        if self.record["attempts"] > self.record["max_retries"]:
            default_group, default_message = exhausted(self.record["queue"])
            self._fail(context, outcome.group or default_group, outcome.message or default_message)
        context.checkpoint()
        self._retry_delay = outcome.delay
        if outcome.group:
            raise WFErrorContinue(failure_message(outcome.group, outcome.message or ""))
        raise WFErrorContinue("retried", store_error=False)

    def retry_delay(self, attempt: int) -> float | None:
        """The delay the job's ``retry(delay)`` asked for."""
        return self._retry_delay


kinds.register("qless", QlessRunJob.from_record)
