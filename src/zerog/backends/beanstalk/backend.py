"""The beanstalk backend: the Backend contract over beanstalkd tubes and a record store.

How the two systems share the work, and the order in which each step writes to them, is
the package docstring's subject (:mod:`zerog.backends.beanstalk`); this module is the
contract's methods, each a store step plus what its tube entry must do after it.
"""

from __future__ import annotations

import functools
import logging
import weakref
from collections.abc import Callable, Iterable, Sequence
from typing import Any, NamedTuple

import greenstalk

from zerog.backends.beanstalk import _crash, _reconcile
from zerog.backends.beanstalk._conn import Held, Link, Pool
from zerog.backends.beanstalk._delegate import StoreOwn
from zerog.backends.beanstalk._due import DueWatch
from zerog.backends.beanstalk._entries import Entries, Exchange
from zerog.backends.beanstalk._flow import LimitWatch, RecurWatch
from zerog.backends.beanstalk._records import (
    Claim,
    Effects,
    Enter,
    EntryInfo,
    Moved,
    RecordStore,
    Settled,
    SettledBatch,
    Verdict,
    open_records,
)
from zerog.backends.beanstalk._waiter import BeanstalkWaiter
from zerog.backends.beanstalk._wire import priority_of, uuid_of, whole_seconds
from zerog.backends.contract import Capability, FullBackend, Waiter
from zerog.errors import BackendError, BackendUnavailable, ConfigurationError, ReservationLost
from zerog.model import (
    Batch,
    Change,
    Control,
    Lease,
    Placed,
    Progress,
    Record,
    Reservation,
    ReserveRequest,
    Retention,
    Settlement,
    State,
)
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
SKIP_QUEUE = (Verdict.QUEUE_PAUSED, Verdict.QUEUE_FULL)  # claims after which a queue is skipped.


class Taken(NamedTuple):
    """An entry reserved from a queue's tube, and the job it names."""

    queue: str
    link: Link
    job: greenstalk.Job[str]
    uuid: str


class BeanstalkBackend(StoreOwn, FullBackend):
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

    @classmethod
    def from_url(
        cls, parsed: BackendURL, clock: Callable[[], float] | None = None
    ) -> BeanstalkBackend:
        """``beanstalk://host[:port]?store=<record store URL>[&prefix=<tube prefix>]``.

        ``store`` is where the records live: ``sqlite:///path.db`` or
        ``postgresql://user@host/database`` (a schema of its own per installation, as those
        backends' URLs say); percent-encode it when it has options of its own
        (``store=sqlite%3A%2F%2F%2Fj.db%3Fsynchronous%3Dfull``,
        ``store=postgresql%3A%2F%2Fzerog%40db%2Fjobs%3Fschema%3Dbeanstalk``).
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
        for waiter in list(self._waiters):
            waiter.close()
        self.entries.pool.close()
        self.records.close()

    def waiter(self) -> Waiter:
        """A blocking reserve on the queues' tubes (see :mod:`._waiter`); closed with the
        backend."""
        waiter = BeanstalkWaiter(self.address, self.entries.tube)
        self._waiters.add(waiter)
        return waiter

    def next_due(self, queues: Sequence[str]) -> float | None:
        """The first scheduled job's due time, of any queue (beanstalkd readies a delayed
        entry by itself; this wakes a worker for one due within the second it rounds to)."""
        return self.records.next_due()

    # --- producers ---------------------------------------------------------------------------

    def put(self, record: Record) -> Placed:
        return self.put_many([record])[0]

    def put_many(self, records: Iterable[Record]) -> list[Placed]:
        """Store several new jobs in one store transaction: all of them, or none (an entry
        put before a failure is left without a record and deleted when delivered). Only the
        jobs stored ready get an entry: not one in depends, merged or skipped."""
        batch = list(records)
        if not batch:
            return []
        inserted = self.records.insert(batch, self._entering("put:entered", self.entries.put))
        if inserted.first_due is not None:
            self._due.lower(inserted.first_due)
        return inserted.placed

    # --- workers -----------------------------------------------------------------------------

    def _reserve_one(self, request: ReserveRequest) -> Reservation | None:
        """A claim with nothing to settle: entry by entry, queue by queue, each checked
        against the store (a full queue's tube is not even asked)."""
        self._kick_due()
        for queue in request.queues:
            self._spawn_due(queue)
            if self._queue_full(queue):
                continue
            reservation = self._reserve_from(queue, request.worker)
            if reservation is not None:
                return reservation
        return None

    def _spawn_due(self, queue: str) -> None:
        """Before a reserve looks at a queue's tube: spawn the jobs the queue's due
        recurrences owe, each with its entry (a store step, so exactly one process spawns
        each tick; none while the queue is paused)."""
        now = self.clock()
        if self._recur.due(queue, now, self.records.recurrences_due):
            next_at, effects = self.records.spawn(queue, self._entering("spawn:entered"))
            self._recur.spawned(queue, next_at, now)
            self._after(effects)

    def _queue_full(self, queue: str) -> bool:
        """Whether the queue's own limit is full, so that its tube need not be reserved
        from: the claim would refuse its jobs anyway, this only saves the round trips."""
        limited = self._limits.limited(queue, self.store.limits)
        return limited and self.records.queue_full(queue)

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
            if reservation is not None or claim.verdict in SKIP_QUEUE:
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

    def _settled(self, lease: Lease, settled: Settled, deleted: bool) -> None:
        """The store committed the settlement: the entry follows, as best it can, and so do
        the entries of the other jobs it touched."""
        _crash.point("settle:stored")
        held = self.entries.pool.holdings.take(lease.uuid, lease.token)
        if not deleted:
            _best_effort("settle", lambda: self._follow(lease.uuid, settled, held))
        self._after(settled.effects)

    def settle_batch(
        self,
        finished: Sequence[tuple[Lease, Settlement]],
        request: ReserveRequest | None,
        count: int,
    ) -> Batch:
        """A busy worker's batch: one round trip to beanstalkd and one store transaction for
        all of it. The order of writes:

        1. Through the first queue's reserver link, one buffer deletes the entries of the
           finished runs that link holds (others, and runs not finished, are left for step
           3) and reserves up to ``count`` entries of that queue.
        2. One store transaction settles every run (a lost lease is reported in ``lost``,
           nothing written for it; the others are settled all the same) and claims each
           entry taken, in beanstalkd's order.
        3. After the commit, each settled job's entry follows its record unless step 1
           deleted it, a lost lease's entry is dropped if it is stale, and each entry taken
           is held for its run or disposed of as the store's verdict says.
        4. If fewer than ``count`` jobs were claimed, and a plain reserve could find more (an
           entry taken was not claimed; or the queue ran dry, and there are later queues or
           the settlements made jobs ready), :meth:`reserve` takes the rest, one by one.

        Deleting before the commit is safe: if the commit
        fails (or the process dies first), each of those jobs is still running under its
        lease, and when the lease expires the rescue gives it a new entry, exactly what a
        worker dying before it settled leaves. Only deletes go out early, never a release or
        a bury (a released entry could be delivered while the lease is live). The entries
        reserved in step 1 are candidates until the claim commits: a crash gives them back
        (the connection closes), a failed transaction gives them back at once, and one that
        ranks behind a job the settlements made ready is given back (OUTRANKED) for step 4
        to take in order, as settle-then-reserve would. beanstalkd failing in step 1 never
        fails the settlements: they are written without reserving anything. With no
        ``request`` (or ``count`` 0), the settlements are one transaction and their entries
        follow after it."""
        finished = list(finished)
        if not finished and count == 1 and request is not None:  # a plain reserve.
            reservation = self._reserve_one(request)
            return Batch(lost=[], reservations=[] if reservation is None else [reservation])
        if request is None or count <= 0 or not request.queues:
            return Batch(lost=self._settle_all(finished), reservations=[])
        try:
            deleted, exchange, taken = self._take_batch(finished, request.queues[0], count)
        except BackendError as exc:
            log.warning("no next jobs reserved with the settlements: %s", exc)
            return Batch(lost=self._settle_all(finished), reservations=[])
        try:
            batch = self.records.settle_batch(
                finished,
                [(item.uuid, item.job.id, request.worker) for item in taken],
                request.queues,
                self._entering_if_up(),
            )
        except BaseException:
            for item in taken:
                self.entries.give_back(item.link, item.job.id)
            raise
        lost = self._batch_settled(finished, batch.settled, deleted)
        reservations = self._batch_claimed(taken, request.worker, batch.claims)
        if len(reservations) < count and (
            len(reservations) < len(exchange.jobs) or _more_ready(exchange, request, batch)
        ):
            reservations += self._top_up(request, count - len(reservations))
        return Batch(lost=lost, reservations=reservations)

    def _settle_all(self, finished: list[tuple[Lease, Settlement]]) -> list[str]:
        """Settle a batch without reserving: one store transaction, then the entries follow.
        Returns the uuids whose lease was lost."""
        if not finished:
            return []
        batch = self.records.settle_batch(finished, [], [], self._entering_if_up())
        return self._batch_settled(finished, batch.settled, [False] * len(finished))

    def _take_batch(
        self, finished: list[tuple[Lease, Settlement]], queue: str, count: int
    ) -> tuple[list[bool], Exchange, list[Taken]]:
        """Step 1 of :meth:`settle_batch`: whether each finished run's entry was deleted, the
        exchange, and the entries it reserved that name a job (others are buried)."""
        self._kick_due()
        # No _queue_full() here: the runs settling may count against the queue's limit;
        # the claims, in the settlements' transaction, count without them.
        self._spawn_due(queue)
        helds = [
            self.entries.pool.holdings.get(lease.uuid, lease.token)
            if settlement.state in FINISHED
            else None
            for lease, settlement in finished
        ]
        tube = self.entries.tube(queue)
        exchange = self.entries.delete_and_reserve_many(
            tube, [held for held in helds if held is not None], count
        )
        deleted = [held is not None and held.bid in exchange.deleted for held in helds]
        taken = [self._named_or_none(queue, exchange.link, job) for job in exchange.jobs]
        return deleted, exchange, [item for item in taken if item is not None]

    def _named_or_none(self, queue: str, link: Link, job: greenstalk.Job[str]) -> Taken | None:
        """:meth:`_named`, where burying a foreign entry is best effort: the other entries
        the batch reserved must still reach the store (the foreign one comes back at its
        TTR and is buried then)."""
        try:
            return self._named(queue, link, job)
        except BackendError as exc:
            log.warning("queue %s: entry %d was not buried (%s)", queue, job.id, exc)
            return None

    def _batch_settled(
        self,
        finished: list[tuple[Lease, Settlement]],
        settled: list[Settled | None],
        deleted: list[bool],
    ) -> list[str]:
        """Step 3 for the settlements: each entry follows its record; returns the uuids whose
        lease was lost."""
        lost = []
        for (lease, _settlement), item, gone in zip(finished, settled, deleted, strict=True):
            if item is None:
                self._lost(lease)
                lost.append(lease.uuid)
            else:
                self._settled(lease, item, gone)
        return lost

    def _batch_claimed(
        self, taken: list[Taken], worker: str, claims: list[Claim]
    ) -> list[Reservation]:
        """Step 3 for the entries taken: the reservations the claims made, in order; every
        other entry disposed of (best effort: one left undone comes back at its TTR)."""
        reservations = []
        for item, claim in zip(taken, claims, strict=True):
            try:
                reservation = self._claimed(item, worker, claim)
            except BackendError as exc:
                log.warning("entry %d could not be disposed of: %s", item.job.id, exc)
                continue
            if reservation is not None:
                reservations.append(reservation)
        return reservations

    def _reserve_after_settle(self, request: ReserveRequest) -> Reservation | None:
        """Reserve once the settlement is made: a failure now is no failure of it."""
        try:
            return self._reserve_one(request)
        except BackendError as exc:
            log.warning("no next job reserved with the settlement: %s", exc)
            return None

    def _top_up(self, request: ReserveRequest, missing: int) -> list[Reservation]:
        """Step 4: reserve one by one, after the commit (a failure now fails nothing)."""
        more: list[Reservation] = []
        while len(more) < missing:
            reservation = self._reserve_after_settle(request)
            if reservation is None:
                break
            more.append(reservation)
        return more

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
                _best_effort("lost lease", lambda: self.entries.delete_held(held))

    def rescue_expired(self, limit: int = 100) -> list[str]:
        moved, effects = self.records.rescue(limit, self._entering("rescue:entered"))
        for item in moved:
            _best_effort("rescue", functools.partial(self._moved, item))
        self._after(effects)
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

    def _after(self, effects: Effects) -> None:
        """What beanstalkd must do for other jobs after a step committed (best effort: a
        stale entry is deleted when delivered, a parked one kicked by the reconciler)."""
        for bid in effects.stale:
            _best_effort("stale entry", functools.partial(self.entries.delete, bid))
        for bid in effects.kick:
            _best_effort("unpark", functools.partial(self.entries.kick, bid))

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
        self._recur.forget()  # a resumed queue's recurrences may be due.
        seconds = _reconcile.PAUSE_SECONDS if paused else 0
        _best_effort("pause-tube", lambda: self.entries.pause(queue, seconds))

    # --- flow --------------------------------------------------------------------------------

    def alter(self, uuid: str, change: Change, worker: str | None = None) -> Record:
        """The store alters the job, giving it a new entry where its place in beanstalkd
        changed (an entry's tube and priority are fixed); the old one is deleted after."""
        altered = self.records.alter(uuid, change, worker, self._entering("alter:entered"))
        record = altered.record
        if record["state"] == State.SCHEDULED:
            self._due.lower(record["ready_at"])
        self._after(altered.effects)
        return record

    def recur(self, recurrence: dict[str, Any]) -> None:
        self.store.recur(recurrence)
        self._recur.forget()

    def unrecur(self, recurrence_id: str) -> bool:
        self._recur.forget()
        return self.store.unrecur(recurrence_id)

    def update_recurrence(self, recurrence_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        self._recur.forget()
        return self.store.update_recurrence(recurrence_id, changes)

    def set_limit(self, name: str, maximum: int | None) -> None:
        """A limit that grew or went may let parked jobs run: their entries are kicked."""
        self.store.set_limit(name, maximum)
        self._limits.forget()
        self._after(self.records.unpark())

    def prune(self, retention: Retention, limit: int = 1000) -> int:
        """The store deletes the jobs; then whatever entries they had left (normally none: a
        finished job's entry is deleted when it finishes) are deleted, each after checking
        that it still names its job (after a beanstalkd restart without a binlog, ids are
        given again from 1)."""
        count, gone = self.records.prune(retention, limit)
        for bid, uuid in gone:
            _best_effort("prune", functools.partial(self.entries.delete_named, bid, uuid))
        return count


def _more_ready(exchange: Exchange, request: ReserveRequest, batch: SettledBatch) -> bool:
    """Whether a plain reserve may find jobs the exchange did not reserve, although it took
    fewer than it asked for: it stopped for another reason than an empty tube (DEADLINE_SOON,
    which a plain reserve meets by touching, or an error it reports), the request has later
    queues, or the settlements made jobs of its queues ready (their entries came after the
    exchange)."""
    if exchange.ended is None:
        return False
    queues = set(request.queues)
    readied = any(queue in queues for queue, _priority, _seq in batch.ready)
    return not exchange.timed_out or len(request.queues) > 1 or readied


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
