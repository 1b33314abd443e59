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

from zerog.errors import InvalidTransition, NotSupported, ReservationLost
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
    expire_lease: bool = False  # a timeout: the lease ends now; the rescue takes the job.


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
    "timeout": {State.RUNNING: Move(None, "timed-out", expire_lease=True)},
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
heartbeat and settles the job itself. A timeout (qless's) sets a running job's lease to expire
now: the next :meth:`Backend.rescue_expired` takes the job back (or fails it), after which the
worker's writes are refused; a heartbeat that comes first renews the lease.
"""


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
    def put(self, record: Record) -> Placed:
        """Store a new job as ``waiting`` or ``scheduled`` (by its ``state``), with a ``put``
        history entry, in one step with all that follows.

        - ``depends``: uuids of jobs that must complete first. Complete ones are dropped; if
          any is left the job is stored ``depends`` and added to each one's ``dependents``.
          Unknown ids raise UnknownDependency (nothing stored). A dependency that is failed,
          cancelled or expired now is noted in ``blocked_by`` (uuid: its state).
        - ``unique_key``: while a job with that key is waiting, scheduled, depends, running
          or paused, a put with ``_on_duplicate`` ``merge`` stores nothing and returns that
          job (``merged``); ``refuse`` raises DuplicateJob.
        - ``_debounce`` (key, seconds, always_delay): see :func:`_common.debounce_plan`.

        Keys starting with ``_`` are never stored. Raises ValueError if a job with that uuid
        exists."""

    def put_many(self, records: Iterable[Record]) -> list[Placed]:
        """Store several new jobs; backends that can do it in one step override this."""
        return [self.put(record) for record in records]

    # --- workers -----------------------------------------------------------------------------

    @abc.abstractmethod
    def reserve(self, request: ReserveRequest) -> Reservation | None:
        """Take the next ready job: the first queue in order that has one, lowest priority
        number first, first put first within a priority. Jobs that are ``scheduled`` and due
        count as ready. A ready job whose TTL passed (``expires_at`` <= now) is set ``expired``
        instead and never returned. The job becomes ``running`` with ``attempts`` + 1, a new
        ``lease_token`` (previous + 1), ``worker``, ``lease_expires_at`` = now + ttr,
        ``started_at`` (first time only). Paused queues are skipped, and so is a job whose
        limits (``queue:<queue>`` and its ``throttles``, see :meth:`set_limit`) are full: the
        next ready job that may run is taken instead. Before looking at a queue, its due
        recurrences spawn their jobs (:mod:`zerog.recurrence`), in the same step. Returns None
        at once when nothing is ready; never blocks. Exactly one of many concurrent callers
        gets each job."""

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
        lease is no longer held; then nothing is written.

        In the same step: a job that completes releases its dependents (those left with no
        unfinished dependency become ``waiting``, history ``dependencies-met``); one that ends
        failed, cancelled or expired marks them ``blocked_by`` it; a job that reaches a final
        state frees its unique key. A settlement with ``queue`` (a pipeline step) moves the
        job, values kept and attempts reset, to that queue as waiting (scheduled with a delay,
        depends with ``depends``): history ``advanced``; its dependents are not released."""

    def settle_and_reserve(
        self, lease: Lease, settlement: Settlement, request: ReserveRequest
    ) -> Reservation | None:
        """:meth:`settle`, then :meth:`reserve` the worker's next job. A backend that can do
        both in one step overrides this: a busy worker then pays one write per job instead
        of two. If the settle raises, nothing is reserved."""
        self.settle(lease, settlement)
        return self.reserve(request)

    def settle_batch(
        self,
        finished: Sequence[tuple[Lease, Settlement]],
        request: ReserveRequest | None,
        count: int,
    ) -> Batch:
        """:meth:`settle` each finished run, then :meth:`reserve` up to ``count`` jobs for
        ``request`` (none when it is None): how a worker running short jobs writes several
        at a time. A lease no longer held is reported in ``Batch.lost`` (nothing written for
        it) and the others are settled all the same. The settlements carry no ``queue`` or
        ``depends`` (no pipeline step), so a lost lease is the one way a settle can fail.

        A backend that can do it all in one step overrides this (one commit, one round trip
        for the lot); this default does it one by one."""
        lost = []
        for lease, settlement in finished:
            try:
                self.settle(lease, settlement)
            except ReservationLost:
                lost.append(lease.uuid)
        taken: list[Reservation] = []
        while request is not None and len(taken) < count:
            reservation = self.reserve(request)
            if reservation is None:
                break
            taken.append(reservation)
        return Batch(lost=lost, reservations=taken)

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

    # --- flow: dependencies, recurring jobs, limits, config, stats, retention ----------------

    history_limit: int | None = None
    """At most this many history entries are kept per job (qless's max-job-history); the
    oldest go first. None keeps them all. Set by the Store from the config."""

    def alter(self, uuid: str, change: Change, worker: str | None = None) -> Record:
        """Apply a :class:`Change` in one step and return the record after it (no history).
        A new priority, queue or dependency each add a history entry (``priority``, ``moved``,
        ``depends``, ``undepends``); a job left with no unfinished dependency becomes
        ``waiting`` (``dependencies-met``). Raises JobNotFound, InvalidTransition (a queued-only
        change of a running or finished job), UnknownDependency or DependencyCycle; nothing
        changes then."""
        raise NotSupported(f"{type(self).__name__} cannot alter jobs")

    def recur(self, recurrence: dict[str, Any]) -> None:
        """Store a recurrence (see :mod:`zerog.recurrence`), replacing one with the same
        ``id``. Reserving from its queue spawns its jobs when they are due: exactly one job per
        tick however many workers reserve, in the reserve's own step."""
        raise NotSupported(f"{type(self).__name__} cannot keep recurring jobs")

    def unrecur(self, recurrence_id: str) -> bool:
        """Forget a recurrence (jobs it spawned stay); False when there was none."""
        raise NotSupported(f"{type(self).__name__} cannot keep recurring jobs")

    def recurrences(self, queue: str | None = None) -> list[dict[str, Any]]:
        """The recurrences (of ``queue``, or all), in creation order."""
        raise NotSupported(f"{type(self).__name__} cannot keep recurring jobs")

    def update_recurrence(self, recurrence_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        """Change some keys of a recurrence in one step (see
        :func:`zerog.recurrence.apply_update`); returns it. Raises JobNotFound."""
        raise NotSupported(f"{type(self).__name__} cannot keep recurring jobs")

    def set_limit(self, name: str, maximum: int | None) -> None:
        """At most ``maximum`` running jobs may count against limit ``name`` at once, across
        all workers (None removes the limit). A queue's own limit is named
        ``queue:<queue>`` and counts every job of that queue; other names count the jobs
        that carry them in ``throttles``. A job whose limits are full is passed over by
        :meth:`reserve` (it stays waiting) for the next one that may run."""
        raise NotSupported(f"{type(self).__name__} cannot limit concurrency")

    def limits(self) -> dict[str, int]:
        """The limits set, by name."""
        raise NotSupported(f"{type(self).__name__} cannot limit concurrency")

    def config(self) -> dict[str, Any]:
        """The config keys that were set (see :mod:`zerog.config` for their defaults)."""
        raise NotSupported(f"{type(self).__name__} keeps no config")

    def set_config(self, key: str, value: Any) -> None:
        """Set a config key to a JSON value, or unset it (None)."""
        raise NotSupported(f"{type(self).__name__} keeps no config")

    def add_stats(self, deltas: Sequence[Any]) -> None:
        """Merge :class:`zerog.stats.StatsDelta` batches into the stored statistics."""
        raise NotSupported(f"{type(self).__name__} keeps no statistics")

    def stats(self, queue: str, day: float) -> dict[str, Any]:
        """The statistics of ``queue`` on the UTC day starting at ``day`` (see
        :func:`zerog.stats.empty`); all zero when none were kept."""
        raise NotSupported(f"{type(self).__name__} keeps no statistics")

    def prune(self, retention: Retention, limit: int = 1000) -> int:
        """Delete up to ``limit`` finished jobs (complete, cancelled, expired; never failed
        ones) past the retention (older than ``jobs_seconds``, or beyond the newest
        ``jobs_count``), with their history, and statistics older than their days. Returns
        how many jobs went; call again while it returns ``limit``."""
        raise NotSupported(f"{type(self).__name__} keeps every job")

    def top_tags(self, limit: int = 20) -> list[tuple[str, int]]:
        """The most used tags and how many jobs carry each, most first."""
        raise NotSupported(f"{type(self).__name__} cannot count tags")

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
