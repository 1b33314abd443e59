"""The record store the beanstalk backend builds on: what it needs beyond the Backend contract.

The store holds every job's record, its history, and which beanstalkd entry is the record's
own (``bid``, beanstalkd's job id). beanstalkd only delivers; the store decides. The steps
below are each one transaction of the store. Some take an :data:`Enter` callback that talks
to beanstalkd *inside* that transaction (see the package docstring for why this order is
safe); a store must be ready for that callback to raise, and then roll everything back.

A step that makes *other* jobs ready (a completion releasing its dependents, an undepend, a
recurrence spawning) gives each of them a new entry through the same ``enter``, inside the
same transaction; what is left for beanstalkd to do after the commit for other jobs (stale
entries to delete, parked entries to kick) comes back as :class:`Effects`.

Plain reads and the parts of the contract that involve no tube entry (``get``, ``list``,
``counts``, ``touch``, ``save``, queue pause, the worker registry, config, statistics,
recurrences as data, limits as data) are the store's own Backend methods, reached through
:attr:`RecordStore.backend`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Protocol

from zerog.backends.contract import FullBackend
from zerog.errors import ConfigurationError
from zerog.model import Change, Lease, Placed, Record, Retention, Settlement, State
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


Enter = Callable[[EntryInfo], int | None]
"""Give a job a deliverable tube entry (put, kick or release one); returns its id. Called by
the store inside its transaction, which commits the id as the record's own. Only a settle's
Enter returns None, when beanstalkd could not be reached: the job keeps the entry it had
(a held-back one) or gets none, the settlement commits all the same, and the reconciler
gives the job its entry later."""


class Verdict(Enum):
    """What a delivered tube entry turned out to be, once the store was asked."""

    CLAIMED = "claimed"  # the job runs now under a new lease.
    STALE = "stale"  # not the record's entry (or no record): delete it.
    NOT_DUE = "not_due"  # the job is scheduled later: release it with a delay.
    HELD = "held"  # another worker's lease is still live: release it until it may expire.
    BURY = "bury"  # the job failed or is paused: set it aside for kick / resume.
    DONE = "done"  # the job is finished (complete, cancelled, expired), or waits in depends.
    QUEUE_PAUSED = "queue_paused"  # its queue is paused: give it back, skip the queue.
    QUEUE_FULL = "queue_full"  # its queue's limit is full: give it back, skip the queue.
    THROTTLED = "throttled"  # one of its throttles is full: bury it (parked) until there is room.
    OUTRANKED = "outranked"  # the settlement before it made a job ahead ready: give it back.


@dataclass(frozen=True)
class Claim:
    """The store's answer about a delivered entry."""

    verdict: Verdict
    record: Record | None = None  # CLAIMED: the record as it runs now.
    delay_seconds: float = 0.0  # NOT_DUE, HELD: until when to keep the entry away.
    priority: int = 0  # the job's (zerog) priority.


@dataclass(frozen=True)
class Effects:
    """What beanstalkd must do after a step's commit for jobs other than the step's own, best
    effort (a delivery or the reconciler does whatever is left undone)."""

    stale: tuple[int, ...] = ()  # entries no record names any more: delete them.
    kick: tuple[int, ...] = ()  # parked entries whose limits have room now: kick them.


NO_EFFECTS = Effects()


Rank = tuple[str, int, int]
"""Where a ready job stands in its queue: (queue, priority, put order)."""


@dataclass(frozen=True)
class Settled:
    """Where a settled job went, for the tube entry to follow."""

    state: State
    bid: int | None  # the job's entry after the step.
    queue: str
    priority: int
    ttr_seconds: float
    delay_seconds: float
    replaced: int | None = None  # a pipeline step: the entry it had (in the old tube), now stale.
    effects: Effects = NO_EFFECTS
    ready: tuple[Rank, ...] = ()  # the jobs the step made ready now (itself included).


@dataclass(frozen=True)
class SettledBatch:
    """What :meth:`RecordStore.settle_batch` did, item by item."""

    settled: list[Settled | None]  # per finished run: where it went; None: its lease was lost.
    claims: list[Claim]  # per entry taken: the store's answer about it.

    @property
    def ready(self) -> tuple[Rank, ...]:
        """The jobs the settlements made ready."""
        return tuple(rank for item in self.settled if item is not None for rank in item.ready)


@dataclass(frozen=True)
class Inserted:
    """What a put did with each job, and when the first of those stored delayed is due."""

    placed: list[Placed]
    first_due: float | None


@dataclass(frozen=True)
class Altered:
    """A job after :meth:`RecordStore.alter`, and what beanstalkd must do after it."""

    record: Record
    effects: Effects


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
    def backend(self) -> FullBackend:
        """The store as a Backend, for every step that needs no tube entry."""

    def insert(self, records: Sequence[Record], enter: Enter) -> Inserted:
        """Backend.put_many in one transaction, all or none: each job stored ready (waiting or
        scheduled) gets the entry ``enter`` makes for it; one stored in ``depends``, merged
        or skipped gets none. Raises ValueError for a uuid that exists (before ``enter`` is
        called for it)."""

    def claim(self, uuid: str, bid: int, worker: str) -> Claim:
        """Decide what entry ``bid`` of job ``uuid`` is for; when the job is ready, due, its
        queue not paused, its limits not full and the entry its own, start its run (as
        Backend.reserve does). A running job whose lease expired is rescued first (history
        as rescue_expired writes it). A throttled job's entry is noted as parked."""

    def settle_batch(
        self,
        finished: Sequence[tuple[Lease, Settlement]],
        taken: Sequence[tuple[str, int, str]],
        queues: Sequence[str],
        enter: Enter,
    ) -> SettledBatch:
        """Backend.settle_batch's store side, in one transaction: settle each of ``finished``
        (a lost lease is reported as None and nothing is written for it; the others are
        settled all the same; jobs a settlement makes ready and a job advanced to another
        queue get new entries from ``enter``), then :meth:`claim` each of ``taken`` (uuid, bid,
        worker), in order. The entries were reserved before the settlements: one that ranks,
        for a reserve from ``queues``, behind a job the settlements made ready is OUTRANKED,
        and not claimed. Anything raised but a lost lease rolls the whole batch back."""

    def rescue(self, limit: int, enter: Enter) -> tuple[list[Moved], Effects]:
        """Backend.rescue_expired; each job sent back to waiting gets an entry from ``enter``."""

    def act(self, uuid: str, action: str, worker: str | None, enter: Enter) -> Moved:
        """Backend.act; a job sent back to waiting gets an entry from ``enter``."""

    def kick(self, queue: str, limit: int, enter: Enter) -> list[Moved]:
        """Backend.kick, each retried job getting an entry from ``enter``."""

    def alter(self, uuid: str, change: Change, worker: str | None, enter: Enter) -> Altered:
        """Backend.alter. A ready job whose queue or priority changed, or that became ready,
        gets a new entry from ``enter`` (the old one turns stale); a job that left its tube
        (made to depend) or was moved while paused keeps no entry."""

    def spawn(self, queue: str, enter: Enter) -> tuple[dict[str, float], Effects]:
        """Spawn the jobs the due recurrences of ``queue`` owe (each with an entry from
        ``enter``) unless the queue is paused, in one transaction: of many processes, exactly
        one spawns each tick. Returns when each queue's next recurrence is due."""

    def recurrences_due(self) -> dict[str, float]:
        """When each queue's next recurrence is due (queues with none are left out)."""

    def queue_full(self, queue: str) -> bool:
        """Whether the queue's own limit has as many running jobs as it allows (a read)."""

    def unpark(self) -> Effects:
        """The parked entries whose limits have room now (after a limit changed)."""

    def prune(self, retention: Retention, limit: int) -> tuple[int, list[tuple[int, str]]]:
        """Backend.prune; also returns the entries the pruned jobs had (id, uuid)."""

    def delete(self, uuid: str) -> tuple[bool, list[tuple[int, str]]]:
        """Backend.delete; also returns the entries the job had left (id, uuid)."""

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


STORES = ("sqlite", "postgresql")  # record stores available now (redis is planned).


def open_records(store: str, where: str, clock: Callable[[], float] | None) -> RecordStore:
    """The record store a ``store=`` URL names: the job store of the SQLite or the
    PostgreSQL backend, with the beanstalk backend's tables beside its own."""
    if not store:
        raise ConfigurationError(
            f"{where!r} names no record store; add ?store=sqlite:///path/to/jobs.db or "
            f"?store=postgresql://user@host/database (percent-encoded if it has options)"
        )
    parsed = parse_url(store)
    if parsed.scheme not in STORES:
        raise ConfigurationError(
            f"store={parsed.masked!r} in {where!r}: the beanstalk backend keeps its records in "
            f"{', '.join(f'{s}://' for s in STORES)} for now"
        )
    from zerog.backends.beanstalk._sql_records import open_sql_records

    return open_sql_records(store, clock)
