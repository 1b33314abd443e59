"""What a qless Job may do with its lock: the three ways a Job object holds (or not) a job.

- :class:`LeaseHold`: a job this client popped (or holds under its worker name): heartbeat,
  complete, fail and retry go straight to the store with the lease.
- :class:`NoHold`: a job read with ``client.jobs[jid]`` or ``peek()`` that this client does
  not run: it can be cancelled, tagged or moved, never settled (LostLockError says why).
- ``WorkerHold`` (:mod:`zerog.qless.runjob`): a job a ``zerog worker`` runs: outcomes are
  recorded and the worker's runner settles them, so a pipeline step is one write.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Protocol, TypeVar

from zerog.errors import LostLockError, ReservationLost
from zerog.model import Control, Lease, Progress, Settlement
from zerog.qless.data import to_values
from zerog.qless.failure import exhausted, failure_entry
from zerog.store import Store

if TYPE_CHECKING:
    from zerog.qless.job import Job

T = TypeVar("T")


class Hold(Protocol):
    """The lock-bound actions of a Job; each raises LostLockError when the lock is gone."""

    def heartbeat(self, job: Job) -> float:
        """Renew the lock (saving the job's data); returns when it expires now."""

    def complete(
        self, job: Job, next_queue: str | None, delay: float, depends: Sequence[str]
    ) -> str:
        """Complete the job, or this step of it (``next_queue``); returns its new state."""

    def fail(self, job: Job, group: str, message: str) -> str:
        """Fail the job with a group and a message; returns its jid."""

    def retry(self, job: Job, delay: float, group: str | None, message: str | None) -> int:
        """Put the job back (after ``delay``); returns the retries left (below 0: failed)."""

    def cancel(self, job: Job) -> None:
        """Cancel the job."""


def state_after_step(delay: float, depends: Sequence[str]) -> str:
    """The state a job advanced to another queue is in (as far as the caller can tell)."""
    if depends:
        return "depends"
    return "scheduled" if delay > 0 else "waiting"


def retries_left_after_retry(job: Job) -> int:
    """qless counts retries down at each retry; zerog counts attempts up at each pop."""
    return job.original_retries - job.attempts


class NoHold:
    """A job this client does not hold: settling it is refused, cancelling it is not."""

    def __init__(self, store: Store, reason: str) -> None:
        self.store = store
        self.reason = reason

    def _refuse(self, job: Job) -> LostLockError:
        return LostLockError(job.jid, self.reason)

    def heartbeat(self, job: Job) -> float:
        raise self._refuse(job)

    def complete(
        self, job: Job, next_queue: str | None, delay: float, depends: Sequence[str]
    ) -> str:
        raise self._refuse(job)

    def fail(self, job: Job, group: str, message: str) -> str:
        raise self._refuse(job)

    def retry(self, job: Job, delay: float, group: str | None, message: str | None) -> int:
        raise self._refuse(job)

    def cancel(self, job: Job) -> None:
        self.store.act(job.jid, "cancel")


class LeaseHold:
    """A job this client holds the lease of: each action is one store call."""

    def __init__(self, store: Store, lease: Lease, ttr_seconds: float) -> None:
        self.store = store
        self.lease = lease
        self.ttr_seconds = ttr_seconds

    def heartbeat(self, job: Job) -> float:
        progress = Progress(values=to_values(job.data))
        control = self._held(lambda: self.store.save(self.lease, progress))
        if control == Control.CANCEL:
            self._held(lambda: self.store.settle(self.lease, Settlement.cancelled()))
            raise LostLockError(job.jid, "an operator cancelled it", self.lease.token)
        if control == Control.PAUSE:
            self._held(lambda: self.store.settle(self.lease, Settlement.paused(progress)))
            raise LostLockError(job.jid, "an operator paused it", self.lease.token)
        return float(self.store.clock()) + self.ttr_seconds

    def complete(
        self, job: Job, next_queue: str | None, delay: float, depends: Sequence[str]
    ) -> str:
        progress = Progress(values=to_values(job.data))
        if next_queue is None:
            self._held(lambda: self.store.complete(self.lease, progress=progress))
            return "complete"
        self._held(lambda: self.store.advance(self.lease, next_queue, delay, depends, progress))
        return state_after_step(delay, depends)

    def fail(self, job: Job, group: str, message: str) -> str:
        error = failure_entry(self.store.clock(), group, message)
        progress = Progress(values=to_values(job.data))
        self._held(lambda: self.store.fail(self.lease, error, progress))
        return job.jid

    def retry(self, job: Job, delay: float, group: str | None, message: str | None) -> int:
        left = retries_left_after_retry(job)
        if left < 0:
            default_group, default_message = exhausted(job.queue_name)
            self.fail(job, group or default_group, message or default_message)
            return left
        now = self.store.clock()
        error = failure_entry(now, group, message or "") if group else None
        progress = Progress(values=to_values(job.data))
        self._held(lambda: self.store.retry(self.lease, delay, error, progress))
        return left

    def cancel(self, job: Job) -> None:
        self._held(lambda: self.store.settle(self.lease, Settlement.cancelled()))

    def _held(self, call: Callable[[], T]) -> T:
        try:
            return call()
        except ReservationLost as exc:
            raise LostLockError(
                self.lease.uuid,
                "it was completed, failed, retried or timed out, or another worker holds it",
                self.lease.token,
            ) from exc
