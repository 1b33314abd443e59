"""The beanstalk backend: the Backend contract over beanstalkd tubes and a record store.

How the two systems share the work, and the order in which each step writes to them, is
the package docstring's subject (:mod:`zerog.backends.beanstalk`); this module is the
contract's methods, each a store step plus what its tube entry must do after it.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

import greenstalk

from zerog.backends.base import (
    Backend,
    Capability,
    Control,
    Lease,
    ListQuery,
    Page,
    Progress,
    Reservation,
    ReserveRequest,
    Settlement,
)
from zerog.backends.beanstalk import _crash, _reconcile
from zerog.backends.beanstalk._conn import Held, Link, Pool
from zerog.backends.beanstalk._due import DueWatch
from zerog.backends.beanstalk._entries import Entries
from zerog.backends.beanstalk._records import (
    Claim,
    Enter,
    EntryInfo,
    Moved,
    RecordStore,
    Settled,
    Verdict,
    open_records,
)
from zerog.backends.beanstalk._wire import priority_of, uuid_of, whole_seconds
from zerog.errors import BackendError, BackendUnavailable, ConfigurationError, ReservationLost
from zerog.record import Record
from zerog.states import State
from zerog.urls import BackendURL

log = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 11300  # beanstalkd's own default.
OPTIONS = ("prefix", "store")
MAX_SKIPPED = 1000  # entries one reserve call may dispose of (stale, not due) before giving up.
DUE_BATCH = 100  # scheduled jobs a reserve call kicks at most when they fell due.
FINISHED = (State.COMPLETE, State.CANCELLED, State.EXPIRED)
SET_ASIDE = (State.FAILED, State.PAUSED)
READY = (State.WAITING, State.SCHEDULED)


class Taken(NamedTuple):
    """An entry reserved from a queue's tube, and the job it names."""

    queue: str
    link: Link
    job: greenstalk.Job[str]
    uuid: str


class BeanstalkBackend(Backend):
    """Jobs as records in a store, delivered as uuids through beanstalkd tubes."""

    capabilities = frozenset({Capability.MULTI_PROCESS, Capability.FAKE_CLOCK})

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

    @classmethod
    def from_url(
        cls, parsed: BackendURL, clock: Callable[[], float] | None = None
    ) -> BeanstalkBackend:
        """``beanstalk://host[:port]?store=<record store URL>[&prefix=<tube prefix>]``.

        ``store`` is where the records live (``sqlite:///path.db`` now); percent-encode it
        when it has options of its own (``store=sqlite%3A%2F%2F%2Fj.db%3Fsynchronous%3Dfull``).
        ``prefix`` goes before every queue's tube name, so that several zerog installations
        (or test runs) can share one beanstalkd. The host defaults to 127.0.0.1, the port to
        11300. A beanstalkd that cannot be reached now is only a warning: every command will
        try it again."""
        options = dict(parsed.options)
        store = options.pop("store", "")
        prefix = options.pop("prefix", "")
        if options:
            raise ConfigurationError(
                f"unknown option(s) {', '.join(sorted(options))} in {parsed.masked!r}; "
                f"known: {', '.join(OPTIONS)}"
            )
        records = open_records(store, parsed.masked, clock)
        backend = cls(
            (parsed.host or DEFAULT_HOST, parsed.port or DEFAULT_PORT), records, prefix=prefix
        )
        try:
            backend.check_server()
        except BackendUnavailable as exc:
            log.warning("%s; zerog will keep trying", exc)
        return backend

    def check_server(self) -> None:
        """Warn when beanstalkd keeps no binlog (a restart would lose its entries)."""
        host, port = self.address
        _reconcile.warn_if_not_durable(self.entries.stats(), f"{host}:{port}")

    def close(self) -> None:
        self.entries.pool.close()
        self.records.close()

    # --- producers ---------------------------------------------------------------------------

    def put(self, record: Record) -> None:
        self.put_many([record])

    def put_many(self, records: Iterable[Record]) -> None:
        """Store several new jobs in one store transaction: all of them, or none (an entry
        put before a failure is left without a record and deleted when delivered)."""
        batch = list(records)
        if batch:
            self.records.insert(batch, self._entering("put:entered", self.entries.put))
            for record in batch:
                if record["state"] == State.SCHEDULED:
                    self._due.lower(record["ready_at"])

    # --- workers -----------------------------------------------------------------------------

    def reserve(self, request: ReserveRequest) -> Reservation | None:
        self._kick_due()
        for queue in request.queues:
            reservation = self._reserve_from(queue, request.worker)
            if reservation is not None:
                return reservation
        return None

    def _kick_due(self) -> None:
        if self._due.wanted(self.clock()):
            bids, next_due = self.records.take_due(DUE_BATCH)
            for bid in bids:
                self.entries.kick(bid)
            self._due.asked(next_due)

    def _reserve_from(self, queue: str, worker: str) -> Reservation | None:
        """The first entry of the queue's tube that the store lets run; None when there is
        none, or the queue is paused."""
        for _ in range(MAX_SKIPPED):
            taken = self._take_entry(queue)
            if taken is None:
                return None
            try:
                claim = self.records.claim(taken.uuid, taken.job.id, worker)
            except BaseException:
                self.entries.give_back(taken.link, taken.job.id)
                raise
            reservation = self._claimed(taken, worker, claim)
            if reservation is not None or claim.verdict is Verdict.QUEUE_PAUSED:
                return reservation
        return None

    def _take_entry(self, queue: str) -> Taken | None:
        """Reserve the next entry of the queue's tube that names a job."""
        while True:
            taken = self.entries.reserve_now(self.entries.tube(queue))
            if taken is None:
                return None
            named = self._named(queue, *taken)
            if named is not None:
                return named

    def _named(self, queue: str, link: Link, job: greenstalk.Job[str]) -> Taken | None:
        """A reserved entry and the job it names; None for one that names none (put there by
        another program), which is buried."""
        _crash.point("reserve:taken")
        uuid = uuid_of(job.body)
        if uuid is not None:
            return Taken(queue, link, job, uuid)
        log.warning("queue %s: entry %d is not zerog's; buried", queue, job.id)
        self.entries.dispose(link, job.id, Claim(Verdict.BURY))
        return None

    def _claimed(self, taken: Taken, worker: str, claim: Claim) -> Reservation | None:
        """The reservation a claim made, or None after doing with the entry what the
        store's verdict says."""
        record, link, bid = claim.record, taken.link, taken.job.id
        if claim.verdict is Verdict.CLAIMED and record is not None:
            lease = Lease(taken.uuid, record["lease_token"], worker)
            held = Held(link, link.generation, bid, lease.token, priority_of(claim.priority))
            self.entries.pool.holdings.hold(lease.uuid, held)
            return Reservation(lease, record)
        self.entries.dispose(link, bid, claim)
        if claim.verdict is Verdict.NOT_DUE:
            self._due.lower(self.clock() + claim.delay_seconds)
        elif claim.verdict is Verdict.QUEUE_PAUSED:  # beanstalkd's mirror of the pause lapsed.
            self.entries.pause(taken.queue, _reconcile.PAUSE_SECONDS)
        return None

    def touch(self, lease: Lease) -> Control:
        return self._renew(lease, lambda: self.store.touch(lease))

    def save(self, lease: Lease, progress: Progress) -> Control:
        return self._renew(lease, lambda: self.store.save(lease, progress))

    def _renew(self, lease: Lease, write: Callable[[], Control]) -> Control:
        """A store write that renews the lease, then beanstalkd's TTR of the entry."""
        try:
            control = write()
        except ReservationLost:
            self._lost(lease)
            raise
        held = self.entries.pool.holdings.get(lease.uuid, lease.token)
        if held is not None:
            try:
                still = self.entries.touch(held)
            except BackendError as exc:
                log.warning("touch: beanstalkd did not follow the store (%s)", exc)
                still = False
            if not still:  # beanstalkd gave the entry back; the store's lease goes on.
                self.entries.pool.holdings.take(lease.uuid, lease.token)
        return control

    def settle(self, lease: Lease, settlement: Settlement) -> None:
        self._settle(lease, settlement, deleted=False)

    def _settle(self, lease: Lease, settlement: Settlement, deleted: bool) -> None:
        """The store settles; then the entry follows (unless ``deleted`` already)."""
        try:
            settled = self.records.settle(lease, settlement)
        except ReservationLost:
            self._lost(lease)
            raise
        self._settled(lease, settled, deleted)

    def _settled(self, lease: Lease, settled: Settled, deleted: bool) -> None:
        """The store committed the settlement: the entry follows, as best it can."""
        _crash.point("settle:stored")
        held = self.entries.pool.holdings.take(lease.uuid, lease.token)
        if not deleted:
            _best_effort("settle", lambda: self._follow(lease.uuid, settled, held))

    def settle_and_reserve(
        self, lease: Lease, settlement: Settlement, request: ReserveRequest
    ) -> Reservation | None:
        """The next entry is reserved from beanstalkd first (a finished job's entry is deleted
        in the same round trip), then the settlement and the claim of that entry are one store
        transaction: a busy worker pays one commit and one round trip per job.

        Deleting before the store commits is safe: if the commit fails, the job is still
        running under its lease, and when that expires the rescue gives it a new entry, as
        if the worker had died before settling. If the settle raises, the next entry is given
        back and nothing is reserved. beanstalkd failing never fails the settlement."""
        try:
            taken, deleted = self._next_entry(lease, settlement, list(request.queues))
        except BackendError as exc:
            log.warning("no next job reserved with the settlement: %s", exc)
            self.settle(lease, settlement)
            return None
        if taken is None:
            self._settle(lease, settlement, deleted)  # nothing was ready: the job may be now.
            return self._reserve_after_settle(request)
        try:
            settled, claim = self.records.settle_and_claim(
                lease, settlement, taken.uuid, taken.job.id, request.worker
            )
        except BaseException as exc:
            self.entries.give_back(taken.link, taken.job.id)
            if isinstance(exc, ReservationLost):
                self._lost(lease)
            raise
        self._settled(lease, settled, deleted)
        try:
            reservation = self._claimed(taken, request.worker, claim)
        except BackendError as exc:
            log.warning("the next job's entry could not be disposed of: %s", exc)
            return None
        if reservation is None and claim.verdict is not Verdict.QUEUE_PAUSED:
            return self._reserve_after_settle(request)
        return reservation

    def _next_entry(
        self, lease: Lease, settlement: Settlement, queues: list[str]
    ) -> tuple[Taken | None, bool]:
        """The next entry for a worker settling ``lease``, and whether the settled job's
        entry was deleted on the way (a finished job's, held by the first queue's link)."""
        self._kick_due()
        held = self.entries.pool.holdings.get(lease.uuid, lease.token)
        deleted = False
        if queues and held is not None and settlement.state in FINISHED:
            tube = self.entries.tube(queues[0])
            both = None
            if held.link is self.entries.pool.reserver(tube):
                both = self.entries.delete_and_reserve(held, tube)
            if both is not None:
                deleted, job = both
                taken = None if job is None else self._named(queues[0], held.link, job)
                if taken is not None:
                    return taken, deleted
                if job is None:
                    queues = queues[1:]  # the first queue had nothing ready.
        for queue in queues:
            taken = self._take_entry(queue)
            if taken is not None:
                return taken, deleted
        return None, deleted

    def _reserve_after_settle(self, request: ReserveRequest) -> Reservation | None:
        """Reserve once the settlement is made: a failure now is no failure of it."""
        try:
            return self.reserve(request)
        except BackendError as exc:
            log.warning("no next job reserved with the settlement: %s", exc)
            return None

    def _follow(self, uuid: str, settled: Settled, held: Held | None) -> None:
        """Make the settled job's entry follow its record (best effort: whatever is left
        undone is done when the entry is next delivered, or by the reconciler)."""
        state = settled.state
        if state in FINISHED:
            if not (held and self.entries.delete_held(held)) and settled.bid is not None:
                self.entries.delete(settled.bid)
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
                _best_effort("lost lease", lambda: self.entries.delete_held(held))

    def rescue_expired(self, limit: int = 100) -> list[str]:
        moved = self.records.rescue(limit, self._entering("rescue:entered"))
        for item in moved:
            _best_effort("rescue", functools.partial(self._moved, item))
        try:
            self.reconciler.run()
        except BackendError:
            log.exception("the beanstalk reconciler failed; it runs again at the next rescue")
        return [item.uuid for item in moved]

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

    def _entering(self, point: str, enter: Enter | None = None) -> Enter:
        """The store's Enter callback (``entries.enter`` unless given), with a crash point
        after it: the entry exists, the store has not committed."""
        give = enter or self.entries.enter

        def entered(info: EntryInfo) -> int:
            bid = give(info)
            _crash.point(point)
            return bid

        return entered

    # --- operators ---------------------------------------------------------------------------

    def act(self, uuid: str, action: str, worker: str | None = None) -> State:
        moved = self.records.act(uuid, action, worker, self._entering("act:entered"))
        _best_effort(action, lambda: self._moved(moved))
        return moved.state

    def kick(self, queue: str, limit: int) -> int:
        moved = self.records.kick(queue, limit, self._entering("act:entered"))
        for item in moved:
            _best_effort("kick", functools.partial(self._moved, item))
        return len(moved)

    def _moved(self, moved: Moved) -> None:
        """The entry follows a job an operator or the rescue moved (best effort, as in
        :meth:`_follow`)."""
        old = moved.old_bid
        if old is None or moved.state == State.RUNNING:
            return
        held = self.entries.pool.holdings.get(moved.uuid)
        mine = held if held is not None and held.bid == old else None
        if mine is not None:
            self.entries.pool.holdings.take(moved.uuid)
        if moved.state in READY:
            if moved.new_bid != old and not (mine and self.entries.delete_held(mine)):
                self.entries.delete(old)
        elif moved.state == State.FAILED:
            if mine is not None:
                self.entries.bury(mine)
        elif moved.state == State.PAUSED:
            if not (mine and self.entries.bury(mine)):
                self.entries.set_aside(old, moved.priority)
        elif not (mine and self.entries.delete_held(mine)):
            self.entries.delete(old)

    # --- queues and workers ------------------------------------------------------------------

    def pause_queue(self, queue: str, paused: bool) -> None:
        """The store holds the pause; beanstalkd's pause-tube mirrors it (see the package
        docstring), renewed by the reconciler."""
        self.store.pause_queue(queue, paused)
        seconds = _reconcile.PAUSE_SECONDS if paused else 0
        _best_effort("pause-tube", lambda: self.entries.pause(queue, seconds))

    def paused_queues(self) -> frozenset[str]:
        return self.store.paused_queues()

    def register_worker(self, worker: dict[str, Any]) -> None:
        self.store.register_worker(worker)

    def unregister_worker(self, worker_id: str) -> None:
        self.store.unregister_worker(worker_id)

    def workers(self, max_age_seconds: float) -> list[dict[str, Any]]:
        return self.store.workers(max_age_seconds)

    # --- readers -----------------------------------------------------------------------------

    def get(self, uuid: str, history: bool = False) -> Record:
        return self.store.get(uuid, history)

    def list(self, query: ListQuery) -> Page:
        return self.store.list(query)

    def counts(self) -> dict[str, dict[str, int]]:
        return self.store.counts()


def _best_effort(what: str, follow: Callable[[], object]) -> bool:
    """Run a beanstalkd command that follows a committed store step. The store decided
    already, so a failure is no failure of the step: whatever is left undone is done when
    the entry is next delivered, or by the reconciler. Returns False when it failed."""
    try:
        follow()
    except BackendError as exc:
        log.warning("%s: beanstalkd did not follow the store (%s); repaired later", what, exc)
        return False
    return True
