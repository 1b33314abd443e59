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

from zerog import config as configuration
from zerog import stalls
from zerog import stats as statistics
from zerog.backends import open_backend
from zerog.backends.base import Backend
from zerog.errors import InvalidOptions, JobNotFound
from zerog.model import (
    Attempts,
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
from zerog.record import JobSpec, eta_seconds, new_record, to_json
from zerog.recurrence import RecurSpec, new_recurrence
from zerog.settings import Settings
from zerog.stats_buffer import StatsBuffer

log = logging.getLogger(__name__)

MAX_PAGE = 500  # list pages are clamped to this many jobs.
MAX_TAG_CHARS = 256  # a tag is a label, not a document.
WORKER_MAX_AGE_SECONDS = 30.0  # a worker not seen for this long is gone.
CONFIG_CACHE_SECONDS = 5.0  # the store's config is read again after this long.
PRUNE_BATCH = 1000  # finished jobs deleted per prune step.
MAINTAIN_SECONDS = 60.0  # how often each worker and server runs maintain().

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
        self._config: dict[str, Any] | None = None
        self._config_read_at = float("-inf")
        self._maintained_at: float | None = None
        self.stats = StatsBuffer(self)

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
        else:
            self.counters[placed.outcome] += 1

    def _check_new(self, spec: JobSpec) -> Record:
        _check_spec(spec)
        to_json(spec.values, f"values of a {spec.type} job", self.settings.max_values_bytes)
        record = new_record(spec, self.clock())
        if spec.ttr_seconds is None:
            record["ttr_seconds"] = configuration.heartbeat_for(self.config(), spec.queue)
        return record

    # --- workers -----------------------------------------------------------------------------

    def reserve(self, queues: Sequence[str], worker: str) -> Reservation | None:
        """The next ready job of the first queue that has one, or None at once."""
        reservation = self.backend.reserve(ReserveRequest(queues=list(queues), worker=worker))
        if reservation is not None:
            self._reserved(reservation)
        return reservation

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
        return self._write(lease, self.completion(result, result_code, progress), then_reserve)

    def completion(
        self, result: Any = None, result_code: int | None = None, progress: Progress | None = None
    ) -> Settlement:
        """The settlement that completes a run, checked (sizes) but not written: for
        :meth:`settle_batch`, which writes several at once."""
        to_json(result, "job result", self.settings.max_result_bytes)
        self._check_progress(progress)
        return Settlement(
            state=State.COMPLETE,
            event="completed",
            result=result,
            result_code=result_code,
            progress=progress,
        )

    def advance(
        self,
        lease: Lease,
        queue: str,
        delay_seconds: float = 0.0,
        depends: Sequence[str] = (),
        progress: Progress | None = None,
        then_reserve: Then = None,
    ) -> Next:
        """A pipeline step finished: the job goes on in ``queue`` with its values (after
        ``delay_seconds``, or once ``depends`` complete), attempts starting afresh."""
        _check_queue(queue)
        if delay_seconds < 0:
            raise InvalidOptions(f"delay must be >= 0 seconds, not {delay_seconds!r}")
        settlement = Settlement(
            state=State.WAITING,
            event="advanced",
            progress=progress,
            delay_seconds=delay_seconds,
            attempts=Attempts.RESET,
            queue=queue,
            depends=list(depends),
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
        self._check_progress(settlement.progress)
        return self._write(lease, settlement, then_reserve)

    def _write(self, lease: Lease, settlement: Settlement, then_reserve: Then) -> Next:
        """Write a checked settlement (and reserve the next job with it, if asked)."""
        following = None
        if then_reserve:
            request = ReserveRequest(queues=list(then_reserve), worker=lease.worker)
            following = self.backend.settle_and_reserve(lease, settlement, request)
        else:
            self.backend.settle(lease, settlement)
        self._settled(lease, settlement)
        if following is not None:
            self._reserved(following)
        return following

    def settle_batch(
        self,
        finished: Sequence[tuple[Lease, Settlement]],
        then_reserve: Then,
        count: int,
        worker: str,
    ) -> list[Reservation]:
        """Write the settlements of several finished runs (from :meth:`completion`) and
        reserve up to ``count`` jobs from ``then_reserve``'s queues for ``worker``, in one
        step where the backend can: a worker running short jobs pays one write per batch.
        A lease lost meanwhile is logged and skipped; the others are settled."""
        request = None
        if then_reserve and count > 0:
            request = ReserveRequest(queues=list(then_reserve), worker=worker)
        batch = self.backend.settle_batch(finished, request, count)
        lost = set(batch.lost)
        for lease, settlement in finished:
            if lease.uuid in lost:
                log.warning("job %s: lease lost before settling (%s)", lease.uuid, settlement.event)
            else:
                self._settled(lease, settlement)
        for reservation in batch.reservations:
            self._reserved(reservation)
        return batch.reservations

    def _settled(self, lease: Lease, settlement: Settlement) -> None:
        """What follows a written settlement: its event, its statistics, a wake-up."""
        self._changed(settlement.event, lease.uuid, settlement.state, worker=lease.worker)
        self.stats.settled(lease.uuid, settlement, self.clock())
        if settlement.state == State.WAITING:
            self.wake()

    def _check_progress(self, progress: Progress | None) -> None:
        if progress is not None and progress.values is not None:
            to_json(progress.values, "job values", self.settings.max_values_bytes)

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

    def alter(self, uuid: str, change: Change, worker: str | None = None) -> Record:
        """Change a job's priority, queue, tags, tracking or dependencies in one step."""
        if change.queue is not None:
            _check_queue(change.queue)
        if change.priority is not None and (
            not isinstance(change.priority, int) or isinstance(change.priority, bool)
        ):
            raise InvalidOptions(f"priority must be an integer, not {change.priority!r}")
        for tag in (*change.add_tags, *change.remove_tags):
            _check_tag(tag)
        if change.delay_seconds is not None and not change.delay_seconds >= 0:
            raise InvalidOptions(f"delay must be >= 0 seconds, not {change.delay_seconds!r}")
        record = self.backend.alter(uuid, change, worker)
        self._changed("altered", uuid, record["state"], worker=worker)
        if record["state"] == State.WAITING:
            self.wake()
        return record

    def set_priority(self, uuid: str, priority: int) -> Record:
        """A waiting job's new priority (lower runs sooner)."""
        return self.alter(uuid, Change(priority=priority))

    def move(self, uuid: str, queue: str) -> Record:
        """Move a job that is not running to another queue (it keeps its place in time)."""
        return self.alter(uuid, Change(queue=queue))

    def reschedule(self, uuid: str, delay_seconds: float) -> Record:
        """Make a waiting or scheduled job due ``delay_seconds`` from now (0: ready now)."""
        return self.alter(uuid, Change(delay_seconds=delay_seconds))

    def tag(self, uuid: str, *tags: str) -> Record:
        """Add tags to a job."""
        return self.alter(uuid, Change(add_tags=tags))

    def untag(self, uuid: str, *tags: str) -> Record:
        """Remove tags from a job."""
        return self.alter(uuid, Change(remove_tags=tags))

    def track(self, uuid: str, tracked: bool = True) -> Record:
        """Flag a job (or unflag it) as one to keep an eye on: ``list(tracked=True)``."""
        return self.alter(uuid, Change(tracked=tracked))

    def depend(self, uuid: str, *on: str) -> Record:
        """Make a job that is not running wait for more jobs to complete."""
        return self.alter(uuid, Change(depend=on))

    def undepend(self, uuid: str, *on: str, all: bool = False) -> Record:
        """Stop a job waiting for some (or ``all``) of its dependencies."""
        return self.alter(uuid, Change(undepend=on, undepend_all=all))

    def timeout(self, uuid: str, worker: str | None = None) -> State:
        """End a running job's lease now (qless's timeout) and rescue it at once: it is
        waiting again (failed if out of retries), and its worker's next write is refused.
        Returns the job's state after."""
        self.act(uuid, "timeout", worker)
        self.rescue_expired()
        return State(self.backend.get(uuid)["state"])

    # --- recurring jobs, limits, config, statistics, retention -------------------------------

    def recur(self, spec: RecurSpec) -> str:
        """Store a recurring job; returns its id. A cron line that does not parse, a
        schedule that could never run or values that are not JSON raise, storing nothing."""
        limit = self.settings.max_values_bytes
        to_json(spec.values, f"values of a recurring {spec.type} job", limit)
        _check_queue(spec.queue)
        doc = new_recurrence(spec, self.clock())
        self.backend.recur(doc)
        self._changed("recur", doc["id"], "recurring", queue=spec.queue)
        return str(doc["id"])

    def unrecur(self, recurrence_id: str) -> bool:
        """Stop a recurrence (the jobs it spawned stay); False if there was none."""
        return self.backend.unrecur(recurrence_id)

    def recurrences(self, queue: str | None = None) -> list[dict[str, Any]]:
        """The recurrences (of one queue, or all)."""
        return self.backend.recurrences(queue)

    def get_recurrence(self, recurrence_id: str) -> dict[str, Any]:
        """One recurrence; JobNotFound when there is none."""
        for doc in self.backend.recurrences(None):
            if doc["id"] == recurrence_id:
                return doc
        raise JobNotFound(recurrence_id)

    def update_recurrence(self, recurrence_id: str, **changes: Any) -> dict[str, Any]:
        """Change a recurrence's values, priority, tags, retries, schedule, ... in one step."""
        if "values" in changes:
            to_json(changes["values"], "values of a recurring job", self.settings.max_values_bytes)
        return self.backend.update_recurrence(recurrence_id, changes)

    def set_limit(self, name: str, maximum: int | None) -> None:
        """At most ``maximum`` running jobs carrying throttle ``name`` at once (None: no
        limit)."""
        if not isinstance(name, str) or not name:
            raise InvalidOptions(f"a limit's name is a non-empty string, not {name!r}")
        if maximum is not None and (
            not isinstance(maximum, int) or isinstance(maximum, bool) or maximum < 0
        ):
            raise InvalidOptions(f"a limit is a whole number >= 0 or None, not {maximum!r}")
        self.backend.set_limit(name, maximum)
        self.wake()

    def set_queue_limit(self, queue: str, maximum: int | None) -> None:
        """At most ``maximum`` jobs of ``queue`` run at once, across all workers."""
        _check_queue(queue)
        self.set_limit(f"queue:{queue}", maximum)

    def limits(self) -> dict[str, int]:
        """Every limit set, by name (a queue's is ``queue:<name>``)."""
        return self.backend.limits()

    def config(self, fresh: bool = False) -> dict[str, Any]:
        """The config keys that were set (cached for a few seconds unless ``fresh``); see
        :mod:`zerog.config` for the keys and defaults."""
        return dict(self._cached_config(fresh))

    def _cached_config(self, fresh: bool = False) -> dict[str, Any]:
        """The cached config itself, read again when old: for readers that only look."""
        now = self.clock()
        if fresh or self._config is None or now - self._config_read_at > CONFIG_CACHE_SECONDS:
            self._config = self.backend.config()
            self._config_read_at = now
            self.backend.history_limit = configuration.history_limit(self._config)
        return self._config

    def set_config(self, key: str, value: Any) -> None:
        """Set (or, with None, unset) a config key for every process sharing the store."""
        configuration.check(key, value)
        to_json(value, f"config {key!r}", 1 << 16)
        self.backend.set_config(key, value)
        self.config(fresh=True)

    def queue_stats(self, queue: str, day: float | None = None) -> dict[str, Any]:
        """qless's statistics of a queue for a day (default today, UTC): wait and run times
        (count, mean, std, histogram), failures and retries."""
        self.stats.flush()
        when = self.clock() if day is None else day
        return statistics.summary(self.backend.stats(queue, statistics.day_of(when)))

    def maintain(self) -> int:
        """Periodic upkeep run by workers and the server: flush statistics, refresh the
        config, delete finished jobs and statistics past their retention. Returns how many
        jobs were deleted."""
        self.stats.flush()
        retention = configuration.retention(self.config(fresh=True))
        deleted = 0
        while True:
            step = self.backend.prune(retention, PRUNE_BATCH)
            deleted += step
            if step < PRUNE_BATCH:
                break
        if deleted:
            self.counters["pruned"] += deleted
        return deleted

    def housekeeping(self) -> None:
        """What is due of the upkeep: statistics older than a few seconds are flushed, and
        :meth:`maintain` runs every :data:`MAINTAIN_SECONDS` (the first time one interval
        after the store opened, so that short-lived processes do not all prune at start)."""
        now = self.clock()
        self.stats.flush_if_due(now)
        if self._maintained_at is None:
            self._maintained_at = now
        elif now - self._maintained_at >= MAINTAIN_SECONDS:
            self._maintained_at = now
            self.maintain()

    def top_tags(self, limit: int = 20) -> list[tuple[str, int]]:
        """The most used tags, with how many jobs carry each."""
        return self.backend.top_tags(max(1, min(MAX_PAGE, int(limit))))

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
        """A job's record with its ETA and whether it stalled (and its history unless told
        not to)."""
        return self.shown(self.backend.get(uuid, history=history))

    def shown(self, record: Record) -> Record:
        """Add what a reader sees besides the stored keys: ``eta``, ``quiet_seconds`` and
        ``stalled`` (see :mod:`zerog.stalls`)."""
        now = self.clock()
        record["eta"] = eta_seconds(record, now)
        return stalls.annotate(record, now, self._cached_config())

    def stalled(self, queue: str | None = None) -> list[Record]:
        """The running jobs that stalled, longest silent first. Running jobs are as many
        as worker slots, so this reads them all."""
        found: list[Record] = []
        cursor: str | None = None
        while True:
            page = self.list(state=State.RUNNING.value, queue=queue, limit=MAX_PAGE, cursor=cursor)
            found.extend(r for r in map(self.shown, page.records) if r["stalled"])
            if page.cursor is None:
                return sorted(found, key=lambda r: -float(r["quiet_seconds"] or 0))
            cursor = page.cursor

    def list(
        self,
        state: str | None = None,
        queue: str | None = None,
        type: str | None = None,
        tag: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
        tracked: bool | None = None,
        recurrence: str | None = None,
        worker: str | None = None,
    ) -> Page:
        """A page of jobs, newest first; ``limit`` is clamped to 1..500."""
        if state is not None:
            State(state)  # ValueError names a bad state before the backend sees it.
        query = ListQuery(
            state=state,
            queue=queue,
            type=type,
            tag=tag,
            tracked=tracked,
            recurrence=recurrence,
            worker=worker,
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
        """Flush the statistics and close the backend."""
        try:
            self.stats.flush()
        finally:
            self.backend.close()


def _check_spec(spec: JobSpec) -> None:
    """Refuse what no backend should see: each message names the field and the value."""
    problems = []
    problems.extend(_flow_problems(spec))
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
    if spec.ttr_seconds is not None and spec.ttr_seconds <= 0:
        problems.append(f"ttr must be > 0 seconds, not {spec.ttr_seconds!r}")
    if spec.max_retries < 0:
        problems.append(f"max_retries must be >= 0, not {spec.max_retries!r}")
    if spec.stall_seconds is not None and not spec.stall_seconds > 0:
        problems.append(f"stall_seconds must be > 0, not {spec.stall_seconds!r}")
    if spec.ttl_seconds is not None and spec.ttl_seconds <= spec.delay_seconds:
        problems.append(
            f"ttl ({spec.ttl_seconds!r} s) must be longer than the delay "
            f"({spec.delay_seconds!r} s), or the job could never run"
        )
    if not isinstance(spec.values, dict):
        problems.append(f"values must be a JSON object, not {type(spec.values).__name__}")
    if problems:
        raise InvalidOptions("; ".join(problems))


def _flow_problems(spec: JobSpec) -> list[str]:
    problems = []
    if isinstance(spec.depends, str) or not all(isinstance(d, str) and d for d in spec.depends):
        problems.append(f"depends must be a list of job ids, not {spec.depends!r}")
    if spec.on_duplicate not in ("merge", "refuse"):
        problems.append(f"on_duplicate must be 'merge' or 'refuse', not {spec.on_duplicate!r}")
    if spec.debounce is not None:
        if spec.debounce.seconds <= 0:
            problems.append(f"debounce must be > 0 seconds, not {spec.debounce.seconds!r}")
        if spec.delay_seconds:
            problems.append("a debounced job cannot also have a delay (debounce delays it)")
    if isinstance(spec.throttles, str) or not all(isinstance(t, str) and t for t in spec.throttles):
        problems.append(f"throttles must be a list of names, not {spec.throttles!r}")
    for tag in spec.tags:
        if not isinstance(tag, str) or not tag or len(tag) > MAX_TAG_CHARS:
            problems.append(
                f"a tag is a non-empty string of at most {MAX_TAG_CHARS} characters: {tag!r}"
            )
    return problems


def _check_queue(queue: str) -> None:
    if not queue or not isinstance(queue, str) or len(queue) > 200:
        raise InvalidOptions(
            f"queue must be a non-empty string of at most 200 characters, not {queue!r}"
        )


def _check_tag(tag: str) -> None:
    if not isinstance(tag, str) or not tag or len(tag) > MAX_TAG_CHARS:
        raise InvalidOptions(
            f"a tag is a non-empty string of at most {MAX_TAG_CHARS} characters: {tag!r}"
        )


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
