"""What every part of the beanstalk backend shares: its state (a record store, beanstalkd's
entries), and how an entry follows its record after a store step committed."""

from __future__ import annotations

import functools
import logging
import weakref
from collections.abc import Callable
from typing import NamedTuple

import greenstalk

from zerog.backends.beanstalk import _crash, _reconcile
from zerog.backends.beanstalk._conn import Held, Link, Pool
from zerog.backends.beanstalk._delegate import StoreOwn
from zerog.backends.beanstalk._due import DueWatch
from zerog.backends.beanstalk._entries import Entries
from zerog.backends.beanstalk._flow import LimitWatch, RecurWatch
from zerog.backends.beanstalk._records import (
    Effects,
    Enter,
    EntryInfo,
    RecordStore,
    Settled,
    Verdict,
)
from zerog.backends.beanstalk._waiter import BeanstalkWaiter
from zerog.backends.beanstalk._wire import priority_of, whole_seconds
from zerog.backends.contract import Capability, FullBackend
from zerog.errors import BackendError, BackendUnavailable
from zerog.model import (
    Lease,
    State,
)

log = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 11300  # beanstalkd's own default.
OPTIONS = ("prefix", "store")
MAX_SKIPPED = 1000  # entries one reserve call may dispose of (stale, not due) before giving up.
DUE_BATCH = 100  # scheduled jobs a reserve call kicks at most when they fell due.
FINISHED = (State.COMPLETE, State.CANCELLED, State.EXPIRED)
SET_ASIDE = (State.FAILED, State.PAUSED)
READY = (State.WAITING, State.SCHEDULED)
SKIP_QUEUE = (Verdict.QUEUE_PAUSED, Verdict.QUEUE_FULL)  # claims after which a queue is skipped.


class Taken(NamedTuple):
    """An entry reserved from a queue's tube, and the job it names."""

    queue: str
    link: Link
    job: greenstalk.Job[str]
    uuid: str


class BeanstalkBase(StoreOwn, FullBackend):
    """Jobs as records in a store, delivered as uuids through beanstalkd tubes."""

    capabilities = frozenset({Capability.MULTI_PROCESS})

    def __init__(
        self,
        address: tuple[str, int],
        records: RecordStore,
        *,
        prefix: str = "",
    ) -> None:
        super().__init__(records.backend.clock)
        self.address = address
        self.records = records
        self.store = records.backend
        self.entries = Entries(Pool(address), prefix)
        self.reconciler = _reconcile.Reconciler(records, self.entries, self._ensure)
        self._due = DueWatch()
        self._recur = RecurWatch()
        self._limits = LimitWatch()
        self._waiters: weakref.WeakSet[BeanstalkWaiter] = weakref.WeakSet()

    def _settled(self, lease: Lease, settled: Settled, deleted: bool) -> None:
        """The store committed the settlement: the entry follows, as best it can, and so do
        the entries of the other jobs it touched."""
        _crash.point("settle:stored")
        held = self.entries.pool.holdings.take(lease.uuid, lease.token)
        if not deleted:
            best_effort("settle", lambda: self._follow(lease.uuid, settled, held))
        self._after(settled.effects)

    def _follow(self, uuid: str, settled: Settled, held: Held | None) -> None:
        """Make the settled job's entry follow its record (best effort: whatever is left
        undone is done when the entry is next delivered, or by the reconciler). A job that
        went on to another queue has its new entry already (made in the transaction): the
        old one goes, as a finished job's does, and so does the entry of a job in depends."""
        state = settled.state
        if settled.replaced is not None or state in FINISHED or state == State.DEPENDS:
            old = settled.bid if settled.replaced is None else settled.replaced
            if not (held and self.entries.delete_held(held)) and old is not None:
                self.entries.delete(old)
        elif state in SET_ASIDE:
            if held is not None:
                self.entries.bury(held)
        elif state in READY:
            delay = whole_seconds(settled.delay_seconds)
            if state == State.SCHEDULED:
                self._due.lower(self.clock() + settled.delay_seconds)
            priority = priority_of(settled.priority)
            if not (held and self.entries.release(held, priority, delay)):
                info = EntryInfo(
                    uuid,
                    settled.queue,
                    settled.priority,
                    settled.ttr_seconds,
                    settled.bid,
                    settled.delay_seconds,
                )
                self._ensure(info)

    def _lost(self, lease: Lease) -> None:
        """The lease is gone: if the entry this backend holds for it is no longer the job's
        own (the job was rescued with another), delete it; nobody else will want it."""
        held = self.entries.pool.holdings.take(lease.uuid, lease.token)
        if held is not None:
            entry = self.records.entry_of(lease.uuid)
            if entry is None or entry[1] != held.bid:
                best_effort("lost lease", lambda: self.entries.delete_held(held))

    def _ensure(self, info: EntryInfo) -> None:
        """Give a ready job a deliverable entry if it has none (missing, or buried)."""
        state = None if info.bid is None else self.entries.state(info.bid)
        if state in ("ready", "reserved"):  # reserved: a worker is asking the store about it.
            return
        if state == "delayed" and info.delay_seconds > 0:
            return
        if state in ("delayed", "buried") and info.bid is not None and self.entries.kick(info.bid):
            return
        bid = self.records.replace_entry(info.uuid, info.bid, self.entries.enter)
        if bid is not None and bid != info.bid:
            log.warning(
                "job %s had no deliverable tube entry (was %s); it has entry %d now",
                info.uuid,
                info.bid,
                bid,
                extra={"event": "beanstalk.entry_restored", "job_id": info.uuid},
            )

    def _after(self, effects: Effects) -> None:
        """What beanstalkd must do for other jobs after a step committed (best effort: a
        stale entry is deleted when delivered, a parked one kicked by the reconciler)."""
        for bid in effects.stale:
            best_effort("stale entry", functools.partial(self.entries.delete, bid))
        for bid in effects.kick:
            best_effort("unpark", functools.partial(self.entries.kick, bid))

    def _entering_if_up(self) -> Enter:
        """A settlement's Enter (for the dependents it releases, the job it advances): when
        beanstalkd cannot be reached, no entry now (None) rather than no settlement; the
        reconciler gives those jobs their entries (see :data:`._records.Enter`)."""
        enter = self._entering("settle:entered")

        def entered(info: EntryInfo) -> int | None:
            try:
                return enter(info)
            except BackendUnavailable as exc:
                log.warning("job %s gets its tube entry later (%s)", info.uuid, exc)
                return None

        return entered

    def _entering(self, point: str, enter: Enter | None = None) -> Enter:
        """The store's Enter callback (``entries.enter`` unless given), with a crash point
        after it: the entry exists, the store has not committed."""
        give = enter or self.entries.enter

        def entered(info: EntryInfo) -> int | None:
            bid = give(info)
            _crash.point(point)
            return bid

        return entered


def best_effort(what: str, follow: Callable[[], object]) -> bool:
    """Run a beanstalkd command that follows a committed store step. The store decided
    already, so a failure is no failure of the step: whatever is left undone is done when
    the entry is next delivered, or by the reconciler. Returns False when it failed."""
    try:
        follow()
    except BackendError as exc:
        log.warning("%s: beanstalkd did not follow the store (%s); repaired later", what, exc)
        return False
    return True
