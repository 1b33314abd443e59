"""The facade: the one call site into a backend.

Every caller (job classes, workers, CLI, HTTP) goes through a :class:`Store`. It checks input
and sizes before anything reaches a backend, names the transitions (complete, requeue, retry,
fail, ...) on top of the backend's single ``settle``, logs each state change with structured
fields, counts them for metrics, and wakes same-process workers when a job is put.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from zerog.backends import open_backend
from zerog.backends.base import (
    Attempts,
    Backend,
    Control,
    Lease,
    ListQuery,
    Page,
    Progress,
    Reservation,
    ReserveRequest,
    Settlement,
)
from zerog.errors import InvalidOptions
from zerog.record import JobSpec, Record, eta_seconds, new_record, to_json
from zerog.settings import Settings
from zerog.states import State

log = logging.getLogger(__name__)

MAX_PAGE = 500  # list pages are clamped to this many jobs.
WORKER_MAX_AGE_SECONDS = 30.0  # a worker not seen for this long is gone.

Then = Sequence[str] | None
"""Queues to reserve the worker's next job from, in the same step as a settlement."""
Next = Reservation | None
"""The next job a settlement reserved (when asked to), or None."""


class Store:
    """A backend plus the checks, names, logs and counters every caller shares."""

    def __init__(self, backend: Backend, settings: Settings | None = None) -> None:
        self.backend = backend
        self.settings = settings or Settings()
        self.counters: Counter[str] = Counter()
        self._work = threading.Condition()

    @classmethod
    def from_url(cls, url: str, settings: Settings | None = None) -> Store:
        """Open the backend a URL names."""
        settings = (settings or Settings()).replace(url=url)
        return cls(open_backend(url), settings)

    @property
    def clock(self) -> Any:
        """The backend's clock: the only time leases and schedules are measured in."""
        return self.backend.clock

    # --- producers ---------------------------------------------------------------------------

    def enqueue(self, spec: JobSpec) -> str:
        """Store a new job; returns its uuid. Bad input raises before anything is stored."""
        record = self._check_new(spec)
        self.backend.put(record)
        self._changed("put", record["uuid"], record["state"], queue=record["queue"])
        return str(record["uuid"])

    def enqueue_many(self, specs: Iterable[JobSpec]) -> list[str]:
        """Store several new jobs at once (all are checked first; none is stored on error)."""
        records = [self._check_new(spec) for spec in specs]
        self.backend.put_many(records)
        for record in records:
            self._changed("put", record["uuid"], record["state"], queue=record["queue"])
        return [str(r["uuid"]) for r in records]

    def _check_new(self, spec: JobSpec) -> Record:
        _check_spec(spec)
        to_json(spec.values, f"values of a {spec.type} job", self.settings.max_values_bytes)
        return new_record(spec, self.clock())

    # --- workers -----------------------------------------------------------------------------

    def reserve(self, queues: Sequence[str], worker: str) -> Reservation | None:
        """The next ready job of the first queue that has one, or None at once."""
        reservation = self.backend.reserve(ReserveRequest(queues=list(queues), worker=worker))
        if reservation is not None:
            self._reserved(reservation)
        return reservation

    def _reserved(self, reservation: Reservation) -> None:
        record = reservation.record
        self._changed(
            "reserved",
            record["uuid"],
            State.RUNNING,
            worker=reservation.lease.worker,
            queue=record["queue"],
            attempt=record["attempts"],
        )

    def heartbeat(self, lease: Lease) -> Control:
        """Renew a lease; the answer says whether an operator asked to cancel or pause."""
        return self.backend.touch(lease)

    def save(self, lease: Lease, progress: Progress) -> Control:
        """Write a running job's progress and checkpoint (renews the lease too)."""
        if progress.values is not None:
            to_json(progress.values, "job values", self.settings.max_values_bytes)
        return self.backend.save(lease, progress)

    # Each settlement below may also reserve the worker's next job (``then_reserve``: its
    # queues) in the same step, where the backend can: one write per job instead of two.

    def complete(
        self,
        lease: Lease,
        result: Any = None,
        result_code: int | None = None,
        progress: Progress | None = None,
        then_reserve: Then = None,
    ) -> Next:
        """The run finished: the job is complete."""
        to_json(result, "job result", self.settings.max_result_bytes)
        settlement = Settlement(
            state=State.COMPLETE,
            event="completed",
            result=result,
            result_code=result_code,
            progress=progress,
        )
        return self._settle(lease, settlement, then_reserve)

    def requeue(
        self,
        lease: Lease,
        delay_seconds: float,
        progress: Progress | None,
        then_reserve: Then = None,
    ) -> Next:
        """run() asked to run again later; the attempt succeeded, so attempts start afresh."""
        settlement = Settlement(
            state=State.WAITING,
            event="requeued",
            progress=progress,
            delay_seconds=delay_seconds,
            attempts=Attempts.RESET,
        )
        return self._settle(lease, settlement, then_reserve)

    def retry(
        self,
        lease: Lease,
        delay_seconds: float,
        error: dict[str, Any] | None,
        progress: Progress | None = None,
        then_reserve: Then = None,
    ) -> Next:
        """The run failed and may be tried again after ``delay_seconds``."""
        settlement = Settlement(
            state=State.WAITING,
            event="retried",
            error=error,
            delay_seconds=delay_seconds,
            progress=progress,
        )
        return self._settle(lease, settlement, then_reserve)

    def fail(
        self,
        lease: Lease,
        error: dict[str, Any] | None,
        progress: Progress | None = None,
        result_code: int | None = None,
        then_reserve: Then = None,
    ) -> Next:
        """The run failed for good (buried): kept as failed for inspection and retry."""
        settlement = Settlement(
            state=State.FAILED,
            event="failed",
            error=error,
            progress=progress,
            result_code=result_code,
        )
        return self._settle(lease, settlement, then_reserve)

    def finish_cancelled(
        self, lease: Lease, progress: Progress | None = None, then_reserve: Then = None
    ) -> Next:
        """The running job stopped because an operator cancelled it."""
        settlement = Settlement(state=State.CANCELLED, event="cancelled", progress=progress)
        return self._settle(lease, settlement, then_reserve)

    def finish_paused(
        self, lease: Lease, progress: Progress | None = None, then_reserve: Then = None
    ) -> Next:
        """The running job stopped because an operator paused it; its checkpoint is kept."""
        settlement = Settlement(
            state=State.PAUSED, event="paused", progress=progress, attempts=Attempts.REFUND
        )
        return self._settle(lease, settlement, then_reserve)

    def release(self, lease: Lease, progress: Progress | None = None) -> None:
        """Give a running job back (worker shutting down); the attempt is not counted."""
        settlement = Settlement(
            state=State.WAITING, event="released", progress=progress, attempts=Attempts.REFUND
        )
        self._settle(lease, settlement)

    def _settle(self, lease: Lease, settlement: Settlement, then_reserve: Then = None) -> Next:
        if settlement.progress is not None and settlement.progress.values is not None:
            to_json(settlement.progress.values, "job values", self.settings.max_values_bytes)
        following = None
        if then_reserve:
            request = ReserveRequest(queues=list(then_reserve), worker=lease.worker)
            following = self.backend.settle_and_reserve(lease, settlement, request)
        else:
            self.backend.settle(lease, settlement)
        self._changed(settlement.event, lease.uuid, settlement.state, worker=lease.worker)
        if following is not None:
            self._reserved(following)
        if settlement.state == State.WAITING:
            self.wake()
        return following

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
        state = self.backend.act(uuid, action, worker)
        self._changed(action, uuid, state, worker=worker)
        if state == State.WAITING:
            self.wake()
        return state

    def kick(self, queue: str, limit: int = 1) -> int:
        """Retry up to ``limit`` failed jobs of a queue."""
        count = self.backend.kick(queue, limit)
        if count:
            self.counters["kicked"] += count
            self.wake()
        return count

    def pause_queue(self, queue: str) -> None:
        """Workers stop reserving from ``queue``; its jobs stay, running ones go on."""
        self.backend.pause_queue(queue, True)
        self._changed("queue-paused", queue, "paused")

    def resume_queue(self, queue: str) -> None:
        """Workers reserve from ``queue`` again."""
        self.backend.pause_queue(queue, False)
        self._changed("queue-resumed", queue, "waiting")
        self.wake()

    def paused_queues(self) -> frozenset[str]:
        """The queues paused now."""
        return self.backend.paused_queues()

    def register_worker(self, entry: dict[str, Any]) -> None:
        """Add or refresh a worker's entry in the registry (see Backend.register_worker)."""
        self.backend.register_worker(entry)

    def unregister_worker(self, worker_id: str) -> None:
        """Remove a worker's entry: it stopped, or its supervisor saw it die."""
        self.backend.unregister_worker(worker_id)

    def workers(self, max_age_seconds: float | None = None) -> list[dict[str, Any]]:
        """Live workers (seen within ``max_age_seconds``, default three poll intervals of the
        worker heartbeat), pruning entries of workers that vanished."""
        age = max_age_seconds if max_age_seconds is not None else WORKER_MAX_AGE_SECONDS
        return self.backend.workers(age)

    # --- readers -----------------------------------------------------------------------------

    def get(self, uuid: str, history: bool = True) -> Record:
        """A job's record with its ETA (and history unless told not to)."""
        record = self.backend.get(uuid, history=history)
        record["eta"] = eta_seconds(record, self.clock())
        return record

    def list(
        self,
        state: str | None = None,
        queue: str | None = None,
        type: str | None = None,
        tag: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> Page:
        """A page of jobs, newest first; ``limit`` is clamped to 1..500."""
        if state is not None:
            State(state)  # ValueError names a bad state before the backend sees it.
        query = ListQuery(
            state=state,
            queue=queue,
            type=type,
            tag=tag,
            limit=max(1, min(MAX_PAGE, int(limit))),
            cursor=cursor,
        )
        return self.backend.list(query)

    def counts(self) -> dict[str, dict[str, int]]:
        """Jobs per queue per state."""
        return self.backend.counts()

    # --- wake-ups ----------------------------------------------------------------------------

    def wake(self) -> None:
        """Tell same-process workers that work may be ready."""
        with self._work:
            self._work.notify_all()

    def wait_for_work(self, timeout: float) -> None:
        """Sleep up to ``timeout`` seconds, less if a job is put in this process."""
        with self._work:
            self._work.wait(timeout)

    def _changed(self, event: str, uuid: str, state: str, **fields: Any) -> None:
        self.counters[event] += 1
        if log.isEnabledFor(logging.DEBUG):  # the hot path: build the record only if wanted.
            log.debug(
                "job %s %s -> %s",
                uuid,
                event,
                state,
                extra={"event": f"job.{event}", "job_id": uuid, "state": str(state), **fields},
            )

    def close(self) -> None:
        """Close the backend."""
        self.backend.close()


def _check_spec(spec: JobSpec) -> None:
    """Refuse what no backend should see: each message names the field and the value."""
    problems = []
    if not spec.type or not isinstance(spec.type, str):
        problems.append(f"type must be a non-empty string, not {spec.type!r}")
    if not spec.queue or not isinstance(spec.queue, str) or len(spec.queue) > 200:
        problems.append(
            f"queue must be a non-empty string of at most 200 characters, not {spec.queue!r}"
        )
    if not isinstance(spec.priority, int) or isinstance(spec.priority, bool):
        problems.append(f"priority must be an integer, not {spec.priority!r}")
    if spec.delay_seconds < 0:
        problems.append(f"delay must be >= 0 seconds, not {spec.delay_seconds!r}")
    if spec.ttr_seconds <= 0:
        problems.append(f"ttr must be > 0 seconds, not {spec.ttr_seconds!r}")
    if spec.max_retries < 0:
        problems.append(f"max_retries must be >= 0, not {spec.max_retries!r}")
    if spec.ttl_seconds is not None and spec.ttl_seconds <= spec.delay_seconds:
        problems.append(
            f"ttl ({spec.ttl_seconds!r} s) must be longer than the delay "
            f"({spec.delay_seconds!r} s), or the job could never run"
        )
    if not isinstance(spec.values, dict):
        problems.append(f"values must be a JSON object, not {type(spec.values).__name__}")
    if problems:
        raise InvalidOptions("; ".join(problems))


_default_lock = threading.Lock()
_default: Store | None = None


def default_store() -> Store:
    """The process's store: the one set with :func:`use`, else ``ZEROG_URL`` (or the default)."""
    global _default
    with _default_lock:
        if _default is None:
            settings = Settings.from_env()
            _default = Store(open_backend(settings.url), settings)
        return _default


def use(target: str | Store | None, settings: Settings | None = None) -> Store | None:
    """Make a URL or a Store the process's store (None forgets it); returns the new store."""
    global _default
    with _default_lock:
        if isinstance(target, str):
            settings = (settings or Settings.from_env()).replace(url=target)
            _default = Store(open_backend(target), settings)
        else:
            _default = target
        return _default
