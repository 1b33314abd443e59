"""The record store the beanstalk backend builds on: what it needs beyond the Backend contract.

The store holds every job's record, its history, and which beanstalkd entry is the record's
own (``bid``, beanstalkd's job id). beanstalkd only delivers; the store decides. The steps
below are each one transaction of the store. Some take an :data:`Enter` callback that talks
to beanstalkd *inside* that transaction (see the package docstring for why this order is
safe); a store must be ready for that callback to raise, and then roll everything back.

Plain reads and the parts of the contract that involve no tube entry (``get``, ``list``,
``counts``, ``touch``, ``save``, queue pause, the worker registry) are the store's own
Backend methods, reached through :attr:`RecordStore.backend`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Protocol

from zerog.backends.base import Backend, Lease, Settlement
from zerog.errors import ConfigurationError
from zerog.record import Record
from zerog.states import State
from zerog.urls import parse_url


@dataclass(frozen=True)
class EntryInfo:
    """What it takes to (re)create a job's tube entry."""

    uuid: str
    queue: str
    priority: int
    ttr_seconds: float
    bid: int | None  # the record's entry now, if it has one.
    delay_seconds: float = 0.0  # how long until the job is due.


Enter = Callable[[EntryInfo], int]
"""Give a job a deliverable tube entry (put, kick or release one); returns its id. Called by
the store inside its transaction, which commits the id as the record's own."""


class Verdict(Enum):
    """What a delivered tube entry turned out to be, once the store was asked."""

    CLAIMED = "claimed"  # the job runs now under a new lease.
    STALE = "stale"  # not the record's entry (or no record): delete it.
    NOT_DUE = "not_due"  # the job is scheduled later: release it with a delay.
    HELD = "held"  # another worker's lease is still live: release it until it may expire.
    BURY = "bury"  # the job failed or is paused: set it aside for kick / resume.
    DONE = "done"  # the job is finished (complete, cancelled, expired): delete it.
    QUEUE_PAUSED = "queue_paused"  # its queue is paused: give it back, skip the queue.


@dataclass(frozen=True)
class Claim:
    """The store's answer about a delivered entry."""

    verdict: Verdict
    record: Record | None = None  # CLAIMED: the record as it runs now.
    delay_seconds: float = 0.0  # NOT_DUE, HELD: until when to keep the entry away.
    priority: int = 0  # the job's (zerog) priority.


@dataclass(frozen=True)
class Settled:
    """Where a settled job went, for the tube entry to follow."""

    state: State
    bid: int | None
    queue: str
    priority: int
    ttr_seconds: float
    delay_seconds: float


@dataclass(frozen=True)
class Moved:
    """A job an operator or the rescue moved: its new state and its entry before and after."""

    uuid: str
    state: State
    old_bid: int | None
    new_bid: int | None
    priority: int = 0  # the job's (zerog) priority.


@dataclass(frozen=True)
class Ready:
    """A ready job, as the reconciler's check of tube entries sees it."""

    seq: int
    info: EntryInfo


class RecordStore(Protocol):
    """The record side of the beanstalk backend; see the module docstring."""

    @property
    def backend(self) -> Backend:
        """The store as a Backend, for every step that needs no tube entry."""

    def insert(self, records: Sequence[Record], enter: Enter) -> None:
        """Store new jobs, each with the entry ``enter`` makes for it; all or none. Raises
        ValueError for a uuid that exists (before ``enter`` is called for it)."""

    def claim(self, uuid: str, bid: int, worker: str) -> Claim:
        """Decide what entry ``bid`` of job ``uuid`` is for; when the job is ready, due, its
        queue not paused and the entry its own, start its run (as Backend.reserve does). A
        running job whose lease expired is rescued first (history as rescue_expired writes
        it)."""

    def settle(self, lease: Lease, settlement: Settlement) -> Settled:
        """Backend.settle, returning where the job went."""

    def settle_and_claim(
        self, lease: Lease, settlement: Settlement, uuid: str, bid: int, worker: str
    ) -> tuple[Settled, Claim]:
        """:meth:`settle`, then :meth:`claim`, in one transaction (nothing is claimed if the
        settle raises)."""

    def rescue(self, limit: int, enter: Enter) -> list[Moved]:
        """Backend.rescue_expired; each job sent back to waiting gets an entry from ``enter``."""

    def act(self, uuid: str, action: str, worker: str | None, enter: Enter) -> Moved:
        """Backend.act; a job sent back to waiting gets an entry from ``enter``."""

    def kick(self, queue: str, limit: int, enter: Enter) -> list[Moved]:
        """Backend.kick, each retried job getting an entry from ``enter``."""

    def entry_of(self, uuid: str) -> tuple[State, int | None] | None:
        """A job's state and its entry's id (None: no such job)."""

    def replace_entry(self, uuid: str, bid: int | None, enter: Enter) -> int | None:
        """If the job is still ready with entry ``bid``, give it the entry ``enter`` makes;
        returns that id, or None when the job moved on meanwhile."""

    def ready_after(self, seq: int, limit: int) -> list[Ready]:
        """Up to ``limit`` ready jobs put after ``seq``, in put order."""

    def take_due(self, limit: int) -> tuple[list[int], float | None]:
        """Entries beanstalkd still delays although their job is due by the store's clock
        (they must be kicked), forgotten as delayed; and when the next delayed job is due."""

    def next_due(self) -> float | None:
        """When the first job whose entry beanstalkd delays is due, by the store's clock."""

    def get_meta(self, key: str) -> str | None:
        """A value the reconciler keeps (server id, check cursor)."""

    def set_meta(self, key: str, value: str) -> None:
        """Keep a value for the reconciler."""

    def close(self) -> None:
        """Release the store's connections."""


STORES = ("sqlite",)  # record stores available now (postgresql and redis are planned).


def open_records(store: str, where: str, clock: Callable[[], float] | None) -> RecordStore:
    """The record store a ``store=`` URL names."""
    if not store:
        raise ConfigurationError(
            f"{where!r} names no record store; add ?store=sqlite:///path/to/jobs.db"
        )
    parsed = parse_url(store)
    if parsed.scheme not in STORES:
        raise ConfigurationError(
            f"store={parsed.masked!r} in {where!r}: the beanstalk backend keeps its records in "
            f"{', '.join(f'{s}://' for s in STORES)} for now"
        )
    from zerog.backends.beanstalk._sqlite_records import SqliteRecords

    return SqliteRecords(store, clock)
