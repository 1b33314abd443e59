"""The worker's one write on beanstalk: settle a batch of runs and claim the next entries,
one round trip to beanstalkd and one record-store transaction (the order of writes is
:meth:`Settling.settle_batch`'s docstring)."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from zerog.backends.beanstalk._base import FINISHED, Taken
from zerog.backends.beanstalk._claiming import Claiming
from zerog.backends.beanstalk._entries import Exchange
from zerog.backends.beanstalk._records import (
    Claim,
    Settled,
    SettledBatch,
)
from zerog.errors import BackendError
from zerog.model import (
    Batch,
    Lease,
    Reservation,
    ReserveRequest,
    Settlement,
)

log = logging.getLogger(__name__)


class Settling(Claiming):
    """settle_batch."""

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
