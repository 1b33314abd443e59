"""The backend contract, in beanstalkd's words, over plain JSON records.

A backend stores records (see :mod:`zerog.record`) and moves them between states. Each method
below is ONE atomic step: a job is never stored but not queued, queued twice, or reserved by two
workers, and every state change appends one history entry in the same step. Times come from the
backend's own clock (``self.clock()``), never a worker's, so leases mean the same everywhere.

Every write made under a lease carries the :class:`Lease`; a backend refuses it with
:class:`~zerog.errors.ReservationLost` unless the job is still ``running`` under that same
``token``. Tokens grow by one at every reservation and never repeat for a job, so a worker
that lost its lease can never write again, even after the job was retried.

Callers use :class:`zerog.store.Store` (the facade), never a backend directly.
"""

from __future__ import annotations

import abc
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, ClassVar

from zerog.errors import InvalidTransition, NotSupported
from zerog.record import Record
from zerog.states import State

STALE_WORKER_SECONDS = 3600.0  # registry entries unseen this long are deleted at registration.


class Capability(StrEnum):
    """Optional powers a backend may have; callers branch on these, never on the class."""

    BLOCKING_RESERVE = "blocking_reserve"  # reserve() can wait for work without polling.
    MULTI_PROCESS = "multi_process"  # several processes may share the store.
    FAKE_CLOCK = "fake_clock"  # the clock can be replaced (tests, zerog.testing).


class Control(StrEnum):
    """What an operator asked of a running job; the answer to every heartbeat."""

    NONE = ""
    CANCEL = "cancel"
    PAUSE = "pause"


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


@dataclass(frozen=True, kw_only=True)
class ListQuery:
    """Filters and paging for :meth:`Backend.list`; newest jobs first."""

    state: str | None = None
    queue: str | None = None
    type: str | None = None
    tag: str | None = None
    limit: int = 50
    cursor: str | None = None


@dataclass(frozen=True)
class Page:
    """One page of records and the cursor of the next (None on the last page)."""

    records: list[Record]
    cursor: str | None


@dataclass(frozen=True, slots=True)
class Move:
    """One allowed operator action: the state it turns a job into, and its history event."""

    to: State | None  # None: the job is running; the action is only requested of it.
    event: str
    fresh_start: bool = False  # a retry: full retries again, no finish time, no TTL deadline.


OPERATOR_ACTIONS: dict[str, dict[State, Move]] = {
    "cancel": {
        State.WAITING: Move(State.CANCELLED, "cancelled"),
        State.SCHEDULED: Move(State.CANCELLED, "cancelled"),
        State.DEPENDS: Move(State.CANCELLED, "cancelled"),
        State.PAUSED: Move(State.CANCELLED, "cancelled"),
        State.RUNNING: Move(None, "cancel-requested"),
    },
    "pause": {
        State.WAITING: Move(State.PAUSED, "paused"),
        State.SCHEDULED: Move(State.PAUSED, "paused"),
        State.RUNNING: Move(None, "pause-requested"),
    },
    "resume": {State.PAUSED: Move(State.WAITING, "resumed")},
    "retry": {
        State.FAILED: Move(State.WAITING, "retried-by-operator", fresh_start=True),
        State.CANCELLED: Move(State.WAITING, "retried-by-operator", fresh_start=True),
        State.EXPIRED: Move(State.WAITING, "retried-by-operator", fresh_start=True),
    },
}
"""Which operator action is allowed from which state; every backend applies this one table.

A retry (beanstalkd's kick) is a fresh start: the attempt count is reset, so the job gets its
full retries again, and a TTL deadline is dropped (an operator asked for this run).
Cancel and pause of a running job set its ``control``; the worker learns it at its next
heartbeat and settles the job itself.
"""


def plan_action(uuid: str, state: str, action: str) -> Move:
    """The move an operator action makes from ``state``, or InvalidTransition."""
    moves = OPERATOR_ACTIONS.get(action)
    if moves is None:
        raise ValueError(f"unknown action {action!r}; known: {', '.join(OPERATOR_ACTIONS)}")
    move = moves.get(State(state))
    if move is None:
        raise InvalidTransition(uuid, state, action)
    return move


def history_entry(
    at: float, event: str, state: str, worker: str | None = None, detail: str | None = None
) -> dict[str, Any]:
    """One line of a job's history: when, what happened, the state after, and who did it."""
    return {"at": at, "event": event, "state": state, "worker": worker, "detail": detail}


class Backend(abc.ABC):
    """Stores job records and moves them through their states, one atomic step per method."""

    capabilities: ClassVar[frozenset[Capability]] = frozenset()

    def __init__(self, clock: Callable[[], float] | None = None) -> None:
        self.clock: Callable[[], float] = clock or time.time

    # --- producers ---------------------------------------------------------------------------

    @abc.abstractmethod
    def put(self, record: Record) -> None:
        """Store a new job as ``waiting`` or ``scheduled`` (by its ``state``), with a ``put``
        history entry. Raises ValueError if a job with that uuid exists."""

    def put_many(self, records: Iterable[Record]) -> None:
        """Store several new jobs; backends that can do it in one step override this."""
        for record in records:
            self.put(record)

    # --- workers -----------------------------------------------------------------------------

    @abc.abstractmethod
    def reserve(self, request: ReserveRequest) -> Reservation | None:
        """Take the next ready job: the first queue in order that has one, lowest priority
        number first, first put first within a priority. Jobs that are ``scheduled`` and due
        count as ready. A ready job whose TTL passed (``expires_at`` <= now) is set ``expired``
        instead and never returned. The job becomes ``running`` with ``attempts`` + 1, a new
        ``lease_token`` (previous + 1), ``worker``, ``lease_expires_at`` = now + ttr,
        ``started_at`` (first time only). Paused queues are skipped. Returns None at once when
        nothing is ready; never blocks. Exactly one of many concurrent callers gets each
        job."""

    @abc.abstractmethod
    def touch(self, lease: Lease) -> Control:
        """Renew the lease to now + ttr and return what an operator asked of the job.
        Raises ReservationLost if the lease is no longer held."""

    @abc.abstractmethod
    def save(self, lease: Lease, progress: Progress) -> Control:
        """Write a running job's progress (and renew its lease like :meth:`touch`).
        Raises ReservationLost if the lease is no longer held."""

    @abc.abstractmethod
    def settle(self, lease: Lease, settlement: Settlement) -> None:
        """End the run: apply the progress, then move the job to the settlement's state
        (waiting with a delay means scheduled, due at now + delay), record ``result``,
        ``result_code`` and ``error`` (appended to ``errors``), set ``finished_at`` when the
        state is final, clear the lease, adjust ``attempts``. Raises ReservationLost if the
        lease is no longer held; then nothing is written."""

    def settle_and_reserve(
        self, lease: Lease, settlement: Settlement, request: ReserveRequest
    ) -> Reservation | None:
        """:meth:`settle`, then :meth:`reserve` the worker's next job. A backend that can do
        both in one step overrides this: a busy worker then pays one write per job instead
        of two. If the settle raises, nothing is reserved."""
        self.settle(lease, settlement)
        return self.reserve(request)

    @abc.abstractmethod
    def rescue_expired(self, limit: int = 100) -> list[str]:
        """Deal with running jobs whose lease expired: back to ``waiting`` (history
        ``lease-expired``), or ``failed`` with the error "worker lost" when their attempts are
        used up (``attempts`` > ``max_retries``). Also expires ready jobs past their TTL.
        Returns the uuids it moved; idempotent and safe to run from every worker at once."""

    # --- operators ---------------------------------------------------------------------------

    @abc.abstractmethod
    def act(self, uuid: str, action: str, worker: str | None = None) -> State:
        """Apply an operator action (see :data:`OPERATOR_ACTIONS`) and return the new state
        (``running`` when the action was only requested of a running job). Raises JobNotFound
        or InvalidTransition; nothing changes then."""

    @abc.abstractmethod
    def kick(self, queue: str, limit: int) -> int:
        """Retry up to ``limit`` failed jobs of ``queue``, oldest failure first; returns how
        many. Each is one :meth:`act` ``retry``."""

    # --- queues and workers ------------------------------------------------------------------

    @abc.abstractmethod
    def pause_queue(self, queue: str, paused: bool) -> None:
        """Stop (``paused``) or restart reserving from ``queue``; its jobs stay where they
        are, and running ones go on (they may heartbeat and settle). Idempotent; a queue with
        no job yet can be paused. :meth:`reserve` skips a paused queue from the next call on."""

    @abc.abstractmethod
    def paused_queues(self) -> frozenset[str]:
        """The queues that are paused now (empty when none is)."""

    @abc.abstractmethod
    def register_worker(self, worker: dict[str, Any]) -> None:
        """Insert or refresh a worker's entry (``id``, ``host``, ``pid``, ``queues``,
        ``jobs``: the uuids it runs now, ``version``, ``started_at``; other JSON keys are kept
        as given), stamping ``last_seen`` with the backend's clock. Called at start and by
        the worker's heartbeat thread. Raises ValueError or TypeError if it is not JSON."""

    @abc.abstractmethod
    def unregister_worker(self, worker_id: str) -> None:
        """Remove a worker's entry (it stopped cleanly, or its supervisor saw it die).
        Idempotent: an unknown id is not an error."""

    @abc.abstractmethod
    def workers(self, max_age_seconds: float) -> list[dict[str, Any]]:
        """Workers seen within ``max_age_seconds`` (entries as registered, plus
        ``last_seen``), oldest start first. A read: it changes nothing. Entries unseen for
        :data:`STALE_WORKER_SECONDS` are deleted by :meth:`register_worker` (their process is
        gone: its jobs' leases expire and are rescued)."""

    # --- readers -----------------------------------------------------------------------------

    @abc.abstractmethod
    def get(self, uuid: str, history: bool = False) -> Record:
        """The job's record (with ``history``, oldest first, when asked). Raises
        JobNotFound."""

    @abc.abstractmethod
    def list(self, query: ListQuery) -> Page:
        """Records matching the query, newest first, at most ``limit``; without history."""

    @abc.abstractmethod
    def counts(self) -> dict[str, dict[str, int]]:
        """Number of jobs per queue per state, e.g. ``{"q": {"waiting": 3}}``; states with no
        job may be left out."""

    def close(self) -> None:  # noqa: B027 - closing is optional for stores with no resources.
        """Release connections; the backend is unusable afterwards."""

    def require(self, capability: Capability) -> None:
        """Raise NotSupported unless this backend has ``capability``."""
        if capability not in self.capabilities:
            raise NotSupported(f"{type(self).__name__} does not support {capability.value}")
