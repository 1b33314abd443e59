"""The vocabulary every layer shares: the value types the Store and the backends exchange.

A backend stores plain JSON records (:mod:`zerog.record`); these are the parameters and answers
of its contract (:mod:`zerog.backends.contract`): a worker's :class:`Lease`, what a run reports
(:class:`Progress`) and how it ends (:class:`Settlement`), what an operator changes
(:class:`Change`), how lists are filtered (:class:`ListQuery`). They live in the core, not
with the backends, so that the layers above never import a backend to speak to one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

Record = dict[str, Any]
"""A job as stored: see :func:`zerog.record.new_record` for its keys."""


class State(StrEnum):
    """Where a job is in its life (beanstalkd's word in brackets)."""

    WAITING = "waiting"  # ready to be reserved (READY)
    SCHEDULED = "scheduled"  # due at a later time (DELAYED)
    DEPENDS = "depends"  # waiting for other jobs to complete
    RUNNING = "running"  # reserved under a lease (RESERVED)
    PAUSED = "paused"  # stopped by an operator, checkpoint kept
    COMPLETE = "complete"  # finished (deleted)
    FAILED = "failed"  # out of retries or finished with an error (BURIED)
    CANCELLED = "cancelled"  # cancelled by a user (deleted)
    EXPIRED = "expired"  # its TTL passed before it started (deleted)


FINAL_STATES = frozenset({State.COMPLETE, State.FAILED, State.CANCELLED, State.EXPIRED})
"""States a job leaves only by an operator's retry (failed) or never."""

QUEUED_STATES = frozenset({State.WAITING, State.SCHEDULED, State.DEPENDS, State.PAUSED})
"""States of a job that is stored but not running and not finished."""

ALL_STATES = tuple(State)


class Control(StrEnum):
    """What an operator asked of a running job; the answer to every heartbeat."""

    NONE = ""
    CANCEL = "cancel"
    PAUSE = "pause"
    MESSAGE = "message"  # messages wait for the job (zerog.inbox): not a request to stop.

    @property
    def stops(self) -> bool:
        """Whether the job is asked to stop (cancel, pause), which the supervisor enforces."""
        return self in (Control.CANCEL, Control.PAUSE)


class Attempts(StrEnum):
    """What a settlement does to the job's attempt count (counted up at reserve)."""

    KEEP = "keep"  # a retry: the attempt was used.
    RESET = "reset"  # a requeue asked by run(): the attempt succeeded, start afresh.
    REFUND = "refund"  # a release at shutdown: the attempt was not the job's fault.


@dataclass(frozen=True, slots=True)
class Lease:
    """A worker's hold on a running job."""

    uuid: str
    token: int
    worker: str


@dataclass(frozen=True, slots=True)
class Reservation:
    """A reserved job: its lease and its record at the time of reservation."""

    lease: Lease
    record: Record


@dataclass(frozen=True, kw_only=True)
class ReserveRequest:
    """Ask for the next job of the first queue (in order) that has one ready."""

    queues: Sequence[str]
    worker: str


@dataclass(frozen=True, kw_only=True, slots=True)
class Batch:
    """What :meth:`Backend.settle_batch` did: the uuids whose lease was lost (not settled)
    and the jobs it reserved, in order."""

    lost: list[str]
    reservations: list[Reservation]


@dataclass(frozen=True, kw_only=True)
class Progress:
    """What a running job reports; every field is optional and only set ones are written.

    ``events`` and ``errors`` are appended (the oldest dropped past ``max_events`` /
    ``max_errors``); ``values`` replaces the job's values (its checkpoint); ``sample`` is a
    ``[time, completeness]`` pair kept for the ETA (at most 20 are kept).
    """

    completeness: float | None = None
    message: str | None = None
    sample: tuple[float, float] | None = None
    events: Sequence[dict[str, Any]] = ()
    errors: Sequence[dict[str, Any]] = ()
    values: dict[str, Any] | None = None
    max_events: int = 1000
    max_errors: int = 100

    @property
    def empty(self) -> bool:
        """True when there is nothing to write."""
        return (
            self.completeness is None
            and self.message is None
            and self.values is None
            and not self.events
            and not self.errors
        )


@dataclass(frozen=True, kw_only=True)
class Settlement:
    """How a running job ends its run: the target state and what to record.

    ``state`` is one of complete, waiting (``delay_seconds`` > 0 makes it scheduled), failed,
    cancelled or paused. ``event`` names the history entry (``completed``, ``requeued``,
    ``retried``, ``failed``, ``cancelled``, ``paused``, ``released``).
    """

    state: State
    event: str
    delay_seconds: float = 0.0
    attempts: Attempts = Attempts.KEEP
    progress: Progress | None = None
    result: Any = None
    result_code: int | None = None
    error: dict[str, Any] | None = None
    queue: str | None = None  # a pipeline: complete here and go on in this queue (event advanced)
    depends: Sequence[str] = ()  # with ``queue``: wait in it for these jobs to complete.
    usage: dict[str, Any] | None = None  # the run's figures (zerog.worker.usage): record.usage

    # The named endings of a run, one constructor each: what the Store's verbs and the
    # worker's runner write.

    @classmethod
    def completed(
        cls, result: Any = None, result_code: int | None = None, progress: Progress | None = None
    ) -> Settlement:
        """The run finished: the job is complete."""
        return cls(
            state=State.COMPLETE,
            event="completed",
            result=result,
            result_code=result_code,
            progress=progress,
        )

    @classmethod
    def requeued(cls, delay_seconds: float, progress: Progress | None = None) -> Settlement:
        """run() asked to run again later; the attempt succeeded, so attempts start afresh."""
        return cls(
            state=State.WAITING,
            event="requeued",
            progress=progress,
            delay_seconds=delay_seconds,
            attempts=Attempts.RESET,
        )

    @classmethod
    def retried(
        cls,
        delay_seconds: float,
        error: dict[str, Any] | None,
        progress: Progress | None = None,
    ) -> Settlement:
        """The run failed and may be tried again after ``delay_seconds``."""
        return cls(
            state=State.WAITING,
            event="retried",
            error=error,
            delay_seconds=delay_seconds,
            progress=progress,
        )

    @classmethod
    def failed(
        cls,
        error: dict[str, Any] | None,
        progress: Progress | None = None,
        result_code: int | None = None,
    ) -> Settlement:
        """The run failed for good (buried): kept as failed for inspection and retry."""
        return cls(
            state=State.FAILED,
            event="failed",
            error=error,
            progress=progress,
            result_code=result_code,
        )

    @classmethod
    def cancelled(cls, progress: Progress | None = None) -> Settlement:
        """The running job stopped because an operator cancelled it."""
        return cls(state=State.CANCELLED, event="cancelled", progress=progress)

    @classmethod
    def paused(cls, progress: Progress | None = None) -> Settlement:
        """The running job stopped because an operator paused it; its checkpoint is kept
        and the attempt is not counted."""
        return cls(state=State.PAUSED, event="paused", progress=progress, attempts=Attempts.REFUND)

    @classmethod
    def released(cls, progress: Progress | None = None) -> Settlement:
        """The worker gives a running job back (it shuts down); the attempt is not counted."""
        return cls(
            state=State.WAITING, event="released", progress=progress, attempts=Attempts.REFUND
        )

    @classmethod
    def advanced(
        cls,
        queue: str,
        delay_seconds: float = 0.0,
        depends: Sequence[str] = (),
        progress: Progress | None = None,
    ) -> Settlement:
        """A pipeline step finished: the job goes on in ``queue`` with its values (after
        ``delay_seconds``, or once ``depends`` complete), attempts starting afresh."""
        return cls(
            state=State.WAITING,
            event="advanced",
            progress=progress,
            delay_seconds=delay_seconds,
            attempts=Attempts.RESET,
            queue=queue,
            depends=list(depends),
        )


@dataclass(frozen=True, kw_only=True)
class ListQuery:
    """Filters and paging for :meth:`Backend.list`; newest jobs first."""

    state: str | None = None
    queue: str | None = None
    type: str | None = None
    tag: str | None = None
    tracked: bool | None = None
    recurrence: str | None = None
    worker: str | None = None  # the worker holding (or last holding) the job's lease.
    limit: int = 50
    cursor: str | None = None

    def matches(self, record: Record) -> bool:
        """Whether a record passes the filters (paging aside)."""
        return (
            (self.state is None or record["state"] == self.state)
            and (self.queue is None or record["queue"] == self.queue)
            and (self.type is None or record["type"] == self.type)
            and (self.tag is None or self.tag in record.get("tags", ()))
            and (self.tracked is None or bool(record.get("tracked")) == self.tracked)
            and (self.recurrence is None or record.get("recurrence") == self.recurrence)
            and (self.worker is None or record.get("worker") == self.worker)
        )


@dataclass(frozen=True)
class Page:
    """One page of records and the cursor of the next (None on the last page)."""

    records: list[Record]
    cursor: str | None


@dataclass(frozen=True, slots=True)
class Placed:
    """What a put did with a new job.

    ``outcome`` is ``put`` (stored as asked), ``merged`` (a unique job with the same key was
    waiting or running: ``uuid`` is that job's and nothing was stored), ``delayed`` (debounced:
    stored, due at the end of the debounce window) or ``skipped`` (debounced: a push of the
    same call is already pending; ``uuid`` is that job's and nothing was stored).
    """

    uuid: str
    outcome: str = "put"


@dataclass(frozen=True, kw_only=True)
class Change:
    """What :meth:`Backend.alter` changes in a job; fields left at their default are kept.

    ``priority``, ``queue`` (a move) and the dependencies may change only while the job is
    not running and not finished (waiting, scheduled, depends or paused); tags and tracking
    may change in any state. ``delay_seconds`` reschedules a waiting or scheduled job (0:
    ready now), history ``rescheduled``; a job in depends or paused has no due time to move.
    """

    priority: int | None = None
    queue: str | None = None
    delay_seconds: float | None = None  # a waiting or scheduled job is due this long from now.
    add_tags: Sequence[str] = ()
    remove_tags: Sequence[str] = ()
    tracked: bool | None = None
    depend: Sequence[str] = ()
    undepend: Sequence[str] = ()
    undepend_all: bool = False

    @property
    def moves_job(self) -> bool:
        """Whether the change needs a job that is queued (not running, not finished)."""
        return (
            self.priority is not None
            or self.queue is not None
            or self.delay_seconds is not None
            or bool(self.depend or self.undepend or self.undepend_all)
        )


@dataclass(frozen=True, kw_only=True)
class Retention:
    """How long finished jobs and statistics are kept (qless's config keys)."""

    jobs_seconds: float  # jobs-history: complete, cancelled and expired jobs older go.
    jobs_count: int  # jobs-history-count: at most this many of them are kept.
    stats_days: int  # stats-history
    histogram_days: int  # histogram-history
