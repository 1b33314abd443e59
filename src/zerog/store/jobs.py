"""The Store's jobs part: putting jobs, the workers' writes, operator actions.

Workers write through one path, :meth:`Jobs.settle_batch` (the backend's one primitive): a
settlement is checked (sizes) and written, with the worker's next claims in the same step;
the named verbs (complete, retry, fail, ...) are settlements of one.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import Any

from zerog import config as configuration
from zerog.audit import audit_of_change
from zerog.errors import InvalidOptions, ReservationLost
from zerog.model import (
    Change,
    Control,
    Lease,
    Placed,
    Progress,
    Record,
    Reservation,
    ReserveRequest,
    Settlement,
    State,
)
from zerog.record import JobSpec, new_record, to_json
from zerog.store import checks
from zerog.store._base import Facade

log = logging.getLogger("zerog.store")

Finished = tuple[Lease, Settlement]


class Jobs(Facade):
    """Producers, workers and operators."""

    # --- producers ---------------------------------------------------------------------------

    def enqueue(self, spec: JobSpec) -> str:
        """Store a new job; returns its uuid (for a unique job that merged into a waiting one,
        or a debounced push that was skipped, that job's uuid). Bad input raises before
        anything is stored."""
        return self.place(spec).uuid

    def place(self, spec: JobSpec) -> Placed:
        """:meth:`enqueue`, telling also what the put did (put, merged, delayed, skipped)."""
        record = self._check_new(spec)
        placed = self.backend.put(record)
        self._placed(record, placed)
        return placed

    def enqueue_many(self, specs: Iterable[JobSpec]) -> list[str]:
        """Store several new jobs at once (all are checked first; none is stored on error)."""
        records = [self._check_new(spec) for spec in specs]
        placed = self.backend.put_many(records)
        for record, one in zip(records, placed, strict=True):
            self._placed(record, one)
        return [one.uuid for one in placed]

    def _placed(self, record: Record, placed: Placed) -> None:
        if placed.outcome in ("put", "delayed"):
            self._changed("put", placed.uuid, record["state"], queue=record["queue"])
            self.wake()
        else:
            self.counters[placed.outcome] += 1

    def _check_new(self, spec: JobSpec) -> Record:
        """The record of a checked spec, its lease and retries defaulted from the store's
        config (``heartbeat``) and the settings."""
        checks.check_spec(spec)
        to_json(spec.values, f"values of a {spec.type} job", self.settings.max_values_bytes)
        record = new_record(spec, self.clock())
        if spec.ttr_seconds is None:
            record["ttr_seconds"] = configuration.heartbeat_for(
                self._cached_config(), spec.queue, self.settings.ttr_seconds
            )
        if spec.max_retries is None:
            record["max_retries"] = self.settings.max_retries
        return record

    # --- workers -----------------------------------------------------------------------------

    def reserve(self, queues: Sequence[str], worker: str) -> Reservation | None:
        """The next ready job of the first queue that has one, or None at once."""
        taken = self.settle_batch((), queues, 1, worker)
        return taken[0] if taken else None

    def heartbeat(self, lease: Lease) -> Control:
        """Renew a lease; the answer says whether an operator asked to cancel or pause."""
        return self.backend.touch(lease)

    def save(self, lease: Lease, progress: Progress) -> Control:
        """Write a running job's progress and checkpoint (renews the lease too)."""
        self.check_progress(progress)
        return self.backend.save(lease, progress)

    def settle(self, lease: Lease, settlement: Settlement) -> None:
        """Write one run's settlement; ReservationLost when its lease is gone (nothing is
        written then)."""
        self.settle_batch([(lease, settlement)], None, 0, lease.worker, strict=True)

    def settle_batch(
        self,
        finished: Sequence[Finished],
        then_reserve: Sequence[str] | None,
        count: int,
        worker: str,
        strict: bool = False,
    ) -> list[Reservation]:
        """THE write of a worker: the settlements of finished runs, checked (sizes), and up
        to ``count`` jobs claimed from ``then_reserve``'s queues for ``worker``, in one step
        where the backend can. A lease lost meanwhile is logged and skipped (``strict``:
        raises ReservationLost instead); the others are settled all the same."""
        for _lease, settlement in finished:
            self.check_settlement(settlement)
        request = None
        if then_reserve and count > 0:
            request = ReserveRequest(queues=list(then_reserve), worker=worker)
        batch = self.backend.settle_batch(finished, request, count)
        lost = set(batch.lost)
        for lease, settlement in finished:
            if lease.uuid not in lost:
                self._settled(lease, settlement)
            elif strict:
                raise ReservationLost(lease.uuid, lease.token)
            else:
                log.warning("job %s: lease lost before settling (%s)", lease.uuid, settlement.event)
        for reservation in batch.reservations:
            self._reserved(reservation)
        return batch.reservations

    def check_settlement(self, settlement: Settlement) -> None:
        """Refuse a settlement whose result, values or pipeline step no backend should see."""
        if settlement.state == State.COMPLETE:
            to_json(settlement.result, "job result", self.settings.max_result_bytes)
        self.check_progress(settlement.progress)
        if settlement.queue is not None:
            checks.check_queue(settlement.queue)
            if settlement.delay_seconds < 0:
                raise InvalidOptions(
                    f"delay must be >= 0 seconds, not {settlement.delay_seconds!r}"
                )

    def check_progress(self, progress: Progress | None) -> None:
        """Refuse a checkpoint larger than the settings allow, or not JSON."""
        if progress is not None and progress.values is not None:
            to_json(progress.values, "job values", self.settings.max_values_bytes)

    def _reserved(self, reservation: Reservation) -> None:
        record = reservation.record
        self.stats.reserved(record, self.clock())
        self._changed(
            "reserved",
            record["uuid"],
            State.RUNNING,
            worker=reservation.lease.worker,
            queue=record["queue"],
            attempt=record["attempts"],
        )

    def _settled(self, lease: Lease, settlement: Settlement) -> None:
        """What follows a written settlement: its event, its statistics, a wake-up."""
        self._changed(settlement.event, lease.uuid, settlement.state, worker=lease.worker)
        self.stats.settled(lease.uuid, settlement, self.clock())
        if settlement.state == State.WAITING:
            self.wake()

    # The named settlements, for callers that settle one run at a time (the faces, tests).

    def complete(
        self,
        lease: Lease,
        result: Any = None,
        result_code: int | None = None,
        progress: Progress | None = None,
    ) -> None:
        """The run finished: the job is complete."""
        self.settle(lease, Settlement.completed(result, result_code, progress))

    def advance(
        self,
        lease: Lease,
        queue: str,
        delay_seconds: float = 0.0,
        depends: Sequence[str] = (),
        progress: Progress | None = None,
    ) -> None:
        """A pipeline step finished: the job goes on in ``queue`` (see Settlement.advanced)."""
        self.settle(lease, Settlement.advanced(queue, delay_seconds, depends, progress))

    def requeue(self, lease: Lease, delay_seconds: float, progress: Progress | None) -> None:
        """run() asked to run again later; attempts start afresh."""
        self.settle(lease, Settlement.requeued(delay_seconds, progress))

    def retry(
        self,
        lease: Lease,
        delay_seconds: float,
        error: dict[str, Any] | None,
        progress: Progress | None = None,
    ) -> None:
        """The run failed and may be tried again after ``delay_seconds``."""
        self.settle(lease, Settlement.retried(delay_seconds, error, progress))

    def fail(
        self,
        lease: Lease,
        error: dict[str, Any] | None,
        progress: Progress | None = None,
        result_code: int | None = None,
    ) -> None:
        """The run failed for good (buried): kept as failed for inspection and retry."""
        self.settle(lease, Settlement.failed(error, progress, result_code))

    def release(self, lease: Lease, progress: Progress | None = None) -> None:
        """Give a running job back (worker shutting down); the attempt is not counted."""
        self.settle(lease, Settlement.released(progress))

    def rescue_expired(self) -> list[str]:
        """Recover jobs whose worker vanished (lease expired); safe from every worker."""
        moved = self.backend.rescue_expired()
        if moved:
            self.counters["rescued"] += len(moved)
            log.warning(
                "rescued %d job(s) with expired leases",
                len(moved),
                extra={"event": "job.rescued", "job_ids": moved},
            )
            self.wake()
        return moved

    # --- operators ---------------------------------------------------------------------------

    def act(self, uuid: str, action: str, worker: str | None = None) -> State:
        """cancel, retry, pause or resume a job; InvalidTransition when its state forbids it."""
        worker = worker or self._actor_label()
        state = self.backend.act(uuid, action, worker)
        self._audited(action, uuid, f"now {state}")
        self._changed(action, uuid, state, worker=worker)
        if state == State.WAITING:
            self.wake()
        return state

    def delete(self, uuid: str, worker: str | None = None) -> bool:
        """Delete a finished job and its history (see Backend.delete); False when there was
        none. NotSupported on a backend that cannot delete yet."""
        deleted = self.backend.delete(uuid, worker)
        self._audited("delete", uuid, None if deleted else "there was none")
        if deleted:
            self._changed("deleted", uuid, "deleted", worker=worker)
        return deleted

    def kick(self, queue: str, limit: int = 1) -> int:
        """Retry up to ``limit`` failed jobs of a queue."""
        count = self.backend.kick(queue, limit)
        self._audited("kick", queue, f"{count} retried (at most {limit})")
        if count:
            self.counters["kicked"] += count
            self.wake()
        return count

    def alter(self, uuid: str, change: Change, worker: str | None = None) -> Record:
        """Change a job's priority, queue, due time, tags, tracking or dependencies in one
        step (see :class:`~zerog.model.Change`); returns the record after it."""
        checks.check_change(change)
        worker = worker or self._actor_label()
        record = self.backend.alter(uuid, change, worker)
        self._audited(*audit_of_change(uuid, change))
        self._changed("altered", uuid, record["state"], worker=worker)
        if record["state"] == State.WAITING:
            self.wake()
        return record

    def timeout(self, uuid: str, worker: str | None = None) -> State:
        """End a running job's lease now (qless's timeout) and rescue it at once: it is
        waiting again (failed if out of retries), and its worker's next write is refused.
        Returns the job's state after."""
        self.act(uuid, "timeout", worker)
        self.rescue_expired()
        return State(self.backend.get(uuid)["state"])
