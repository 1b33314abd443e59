"""The role every backend has: jobs put, claimed, reported on, settled, rescued and read.

A worker writes through ONE primitive, :meth:`Backend.settle_batch`: it settles the runs that
ended and claims the next jobs in one step. A plain settle is a batch of one and a plain
reserve a batch with nothing to settle (:meth:`Backend.settle` and :meth:`Backend.reserve`
are those), so a backend writes the settlement logic once.
"""

from __future__ import annotations

import abc
import time
from collections.abc import Callable, Iterable, Sequence
from enum import StrEnum
from typing import ClassVar

from zerog.backends.contract.waiting import LocalWaiter, Waiter
from zerog.errors import ReservationLost
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
    Settlement,
    State,
)
from zerog.urls import BackendURL


class Role(StrEnum):
    """The parts of the contract; a backend offers each whole or not at all."""

    JOBS = "jobs"
    QUEUES = "queues"
    SCHEDULES = "schedules"
    LIMITS = "limits"
    UPKEEP = "upkeep"
    MESSAGES = "messages"
    AUDIT = "audit"


class Capability(StrEnum):
    """Powers that differ between backends; callers branch on these, never on the class."""

    MULTI_PROCESS = "multi_process"  # several processes may share the store.


class Backend(abc.ABC):
    """Stores job records and moves them through their states, one atomic step per method."""

    capabilities: ClassVar[frozenset[Capability]] = frozenset()

    def __init__(self, clock: Callable[[], float] | None = None) -> None:
        self.clock: Callable[[], float] = clock or time.time

    @classmethod
    def from_url(cls, parsed: BackendURL, clock: Callable[[], float] | None = None) -> Backend:
        """The backend a parsed URL names: how :func:`zerog.backends.open_backend` opens one
        (by the scheme's row of ``SCHEMES``). A backend whose URLs name a place or carry
        options overrides this; the default (``memory://``) takes only the clock."""
        return cls(clock)

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
    def settle_batch(
        self,
        finished: Sequence[tuple[Lease, Settlement]],
        request: ReserveRequest | None,
        count: int,
    ) -> Batch:
        """The worker's one write: settle each finished run, then claim up to ``count`` jobs
        for ``request`` (none when it is None or ``count`` is 0), in one step where the
        backend can (one commit, one round trip for the lot).

        **Settling** a run applies its progress, then moves the job to the settlement's state
        (waiting with a delay means scheduled, due at now + delay), records ``result``,
        ``result_code`` and ``error`` (appended to ``errors``), sets ``finished_at`` when the
        state is final, clears the lease and adjusts ``attempts``. In the same step a job that
        completes releases its dependents (those left with no unfinished dependency become
        ``waiting``, history ``dependencies-met``); one that ends failed, cancelled or expired
        marks them ``blocked_by`` it; a job that reaches a final state frees its unique key. A
        settlement with ``queue`` (a pipeline step) moves the job, values kept and attempts
        reset, to that queue as waiting (scheduled with a delay, depends with ``depends``):
        history ``advanced``; its dependents are not released.

        A lease no longer held is reported in ``Batch.lost`` and nothing is written for it;
        the other runs are settled all the same. A pipeline step settles alone (ValueError if
        a batch holds one among others): its dependencies may be refused (UnknownDependency,
        DependencyCycle), and then nothing is written.

        **Claiming** takes the next ready jobs: the first queue in order that has one, lowest
        priority number first, first put first within a priority. Jobs that are ``scheduled``
        and due count as ready; one whose TTL passed (``expires_at`` <= now) is set
        ``expired`` instead and never returned. Each job claimed becomes ``running`` with
        ``attempts`` + 1, a new ``lease_token`` (previous + 1), ``worker``,
        ``lease_expires_at`` = now + ttr, ``started_at`` (first time only). Paused queues are
        skipped, and so is a job whose limits (``queue:<queue>`` and its ``throttles``, see
        :class:`~zerog.backends.contract.limits.Limits`) are full: the next ready job that
        may run is taken instead. Before looking at a queue, its due recurrences spawn their
        jobs (:mod:`zerog.recurrence`), in the same step. Jobs the settlements made ready
        are claimed in their turn, as if the settlements came first. Never blocks; exactly
        one of many concurrent callers gets each job."""

    def settle(self, lease: Lease, settlement: Settlement) -> None:
        """Settle one run (a batch of one). Raises ReservationLost if the lease is no longer
        held; then nothing is written."""
        if self.settle_batch([(lease, settlement)], None, 0).lost:
            raise ReservationLost(lease.uuid, lease.token)

    def reserve(self, request: ReserveRequest) -> Reservation | None:
        """Claim the next ready job (a batch with nothing to settle); None at once when
        nothing is ready."""
        taken = self.settle_batch((), request, 1).reservations
        return taken[0] if taken else None

    def waiter(self) -> Waiter:
        """A new waiter for one process's idle workers (see :mod:`.waiting`). The default
        hears only its own process; a backend that can hear others overrides this."""
        return LocalWaiter()

    def ring(self) -> None:  # noqa: B027 - most backends' waiters hear their writes themselves.
        """Tell the other processes' waiters that a job may have become ready (called by the
        Store after a put, a retry, a release, ...). A backend whose waiters hear the writes
        by themselves (a blocking reserve, a NOTIFY sent by the write) does nothing here;
        one that needs a signal of its own (a socket beside a SQLite file) sends it. Cheap,
        best effort, never raises."""

    def next_due(self, queues: Sequence[str]) -> float | None:
        """When the first scheduled job of ``queues`` is due (the backend's clock), so that an
        idle worker wakes then rather than at its next poll; None when none is scheduled or
        the backend cannot tell cheaply (then polling finds it). A read."""
        return None

    @abc.abstractmethod
    def touch(self, lease: Lease) -> Control:
        """Renew the lease to now + ttr and return what an operator asked of the job.
        Raises ReservationLost if the lease is no longer held."""

    @abc.abstractmethod
    def save(self, lease: Lease, progress: Progress) -> Control:
        """Write a running job's progress (and renew its lease like :meth:`touch`).
        Raises ReservationLost if the lease is no longer held."""

    @abc.abstractmethod
    def rescue_expired(self, limit: int = 100) -> list[str]:
        """Deal with running jobs whose lease expired: back to ``waiting`` (history
        ``lease-expired``), or ``failed`` with the error "worker lost" when their attempts are
        used up (``attempts`` > ``max_retries``). Also expires ready jobs past their TTL.
        Returns the uuids it moved; idempotent and safe to run from every worker at once."""

    # --- operators ---------------------------------------------------------------------------

    @abc.abstractmethod
    def act(self, uuid: str, action: str, worker: str | None = None) -> State:
        """Apply an operator action (see :data:`zerog.lifecycle.OPERATOR_ACTIONS`) and return
        the new state (``running`` when the action was only requested of a running job).
        Raises JobNotFound or InvalidTransition; nothing changes then."""

    @abc.abstractmethod
    def kick(self, queue: str, limit: int) -> int:
        """Retry up to ``limit`` failed jobs of ``queue``, oldest failure first; returns how
        many. Each is one :meth:`act` ``retry``."""

    @abc.abstractmethod
    def alter(self, uuid: str, change: Change, worker: str | None = None) -> Record:
        """Apply a :class:`~zerog.model.Change` in one step and return the record after it
        (no history). A new priority, queue, due time or dependency each add a history entry
        (``priority``, ``moved``, ``rescheduled``, ``depends``, ``undepends``); a job left
        with no unfinished dependency becomes ``waiting`` (``dependencies-met``). Raises
        JobNotFound, InvalidTransition (a queued-only change of a running or finished job),
        UnknownDependency or DependencyCycle; nothing changes then."""

    @abc.abstractmethod
    def delete(self, uuid: str, worker: str | None = None) -> bool:
        """Delete a finished job (complete, failed, cancelled or expired) and its history in
        one step; True when it was deleted, False when no job has that id (a repeated delete
        is not an error). A unique key it still holds is freed and it leaves its
        dependencies' ``dependents``. Raises InvalidTransition (action ``delete``) when the
        job is not finished, or while a job in ``depends`` still waits for it (that job would
        wait for a job that no longer exists: cancel or retry it first); nothing changes then."""

    @abc.abstractmethod
    def ping(self, write: bool = False) -> None:
        """Prove the store answers now, and with ``write`` that it takes a write (a disk
        that is full, a file that is read-only, a replica, fail it), changing nothing a
        reader sees. Raises BackendError (BackendUnavailable when it cannot be reached)."""

    # --- readers -----------------------------------------------------------------------------

    @abc.abstractmethod
    def top_tags(self, limit: int = 20) -> list[tuple[str, int]]:
        """The most used tags and how many jobs carry each, most first."""

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
