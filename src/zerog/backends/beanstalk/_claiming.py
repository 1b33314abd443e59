"""Claims with nothing to settle: entry by entry, queue by queue, each checked against the
record store (the path of a plain reserve, and of a batch's top-up)."""

from __future__ import annotations

import logging

import greenstalk

from zerog.backends.beanstalk import _crash, _reconcile
from zerog.backends.beanstalk._base import DUE_BATCH, MAX_SKIPPED, SKIP_QUEUE, BeanstalkBase, Taken
from zerog.backends.beanstalk._conn import Held, Link
from zerog.backends.beanstalk._records import (
    Claim,
    Verdict,
)
from zerog.backends.beanstalk._wire import priority_of, uuid_of
from zerog.errors import BackendError
from zerog.model import (
    Lease,
    Reservation,
    ReserveRequest,
)

log = logging.getLogger(__name__)


class Claiming(BeanstalkBase):
    """The one-by-one claim."""

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

    def _named_or_none(self, queue: str, link: Link, job: greenstalk.Job[str]) -> Taken | None:
        """:meth:`_named`, where burying a foreign entry is best effort: the other entries
        the batch reserved must still reach the store (the foreign one comes back at its
        TTR and is buried then)."""
        try:
            return self._named(queue, link, job)
        except BackendError as exc:
            log.warning("queue %s: entry %d was not buried (%s)", queue, job.id, exc)
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
