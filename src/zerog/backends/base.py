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
from enum import StrEnum
from typing import Any, ClassVar

from zerog.errors import NotSupported, ReservationLost
from zerog.model import (
    Batch,
    Change,
    Control,
    Lease,
    ListQuery,
    Page,
    Placed,
    Progress,
    Record,
    Reservation,
    ReserveRequest,
    Retention,
    Settlement,
    State,
)

STALE_WORKER_SECONDS = 3600.0  # registry entries unseen this long are deleted at registration.


class Capability(StrEnum):
    """Optional powers a backend may have; callers branch on these, never on the class."""

    BLOCKING_RESERVE = "blocking_reserve"  # reserve() can wait for work without polling.
    MULTI_PROCESS = "multi_process"  # several processes may share the store.
    FAKE_CLOCK = "fake_clock"  # the clock can be replaced (tests, zerog.testing).


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
        - ``_debounce`` (key, seconds, always_delay): see :func:`zerog.flow.debounce_plan`.

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
