"""qless's ``Queue``: put, recur, pop, peek, stats, pause, counts and job lists of one queue.

Jobs put here are zerog jobs of kind ``qless`` whose type is the klass's dotted path, so
``zerog worker -q <queue>`` runs them beside job classes and deferred functions, and the
dashboard shows them like any other job. ``pop()`` works with no worker running, as qless's
does: it first takes back jobs whose lock expired, and the store's reserve spawns due
recurring jobs and counts due scheduled jobs as ready.
"""

from __future__ import annotations

import uuid as uuidlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, overload

from zerog import config as configuration
from zerog.errors import InvalidOptions
from zerog.model import Record, State
from zerog.qless.data import class_string, to_values
from zerog.qless.hold import LeaseHold, NoHold
from zerog.qless.job import Job
from zerog.qless.listing import all_records, is_stalled, window
from zerog.record import JobSpec
from zerog.recurrence import RecurSpec
from zerog.store import Store

if TYPE_CHECKING:
    from zerog.qless.client import Client

KIND = "qless"  # the kind of record the qless face puts: zerog.jobs dispatches on it.
DEFAULT_RETRIES = 5  # qless's default.


def queue_counts(
    store: Store, name: str, per_state: dict[str, int], paused: frozenset[str]
) -> dict[str, Any]:
    """qless's counts of a queue: due scheduled jobs count as waiting, running jobs whose
    lock expired as stalled."""
    now = store.clock()
    running = list(all_records(store, state=State.RUNNING.value, queue=name))
    stalled = sum(1 for r in running if is_stalled(r, now))
    due = sum(
        1
        for r in all_records(store, state=State.SCHEDULED.value, queue=name)
        if r["ready_at"] <= now
    )
    return {
        "name": name,
        "paused": name in paused,
        "waiting": per_state.get(State.WAITING, 0) + due,
        "running": len(running) - stalled,
        "stalled": stalled,
        "scheduled": per_state.get(State.SCHEDULED, 0) - due,
        "depends": per_state.get(State.DEPENDS, 0),
        "recurring": len(store.recurrences(name)),
    }


class QueueJobs:
    """The jids of a queue's jobs in one state (``queue.jobs.running()`` ...)."""

    def __init__(self, queue: Queue) -> None:
        self.queue = queue

    def _records(self, state: str) -> list[Record]:
        store = self.queue.client.store
        return list(all_records(store, state=state, queue=self.queue.name))[::-1]

    def running(self, offset: int = 0, count: int = 25) -> list[str]:
        """Running jobs whose lock is still good, soonest expiry first."""
        now = self.queue.client.store.clock()
        held = [r for r in self._records(State.RUNNING.value) if not is_stalled(r, now)]
        held.sort(key=lambda r: r["lease_expires_at"] or 0)
        return window([r["uuid"] for r in held], offset, count)

    def stalled(self, offset: int = 0, count: int = 25) -> list[str]:
        """Running jobs whose lock expired (their worker is late or gone)."""
        now = self.queue.client.store.clock()
        late = [r["uuid"] for r in self._records(State.RUNNING.value) if is_stalled(r, now)]
        return window(late, offset, count)

    def scheduled(self, offset: int = 0, count: int = 25) -> list[str]:
        """Jobs due later, soonest first."""
        now = self.queue.client.store.clock()
        later = [r for r in self._records(State.SCHEDULED.value) if r["ready_at"] > now]
        later.sort(key=lambda r: r["ready_at"])
        return window([r["uuid"] for r in later], offset, count)

    def depends(self, offset: int = 0, count: int = 25) -> list[str]:
        """Jobs waiting for others to complete, oldest first."""
        return window([r["uuid"] for r in self._records(State.DEPENDS.value)], offset, count)

    def recurring(self, offset: int = 0, count: int = 25) -> list[str]:
        """The ids of the queue's recurring jobs."""
        docs = self.queue.client.store.recurrences(self.queue.name)
        return window([str(doc["id"]) for doc in docs], offset, count)


class Queue:
    """One named queue of a client."""

    def __init__(self, name: str, client: Client) -> None:
        self.name = name
        self.client = client
        self.jobs = QueueJobs(self)

    @property
    def worker_name(self) -> str:
        """Who pops: the client's worker name."""
        return self.client.worker_name

    def __repr__(self) -> str:
        return f"<Queue {self.name}>"

    @staticmethod
    def class_string(klass: type | str) -> str:
        """``module.ClassName`` of a job class."""
        return class_string(klass)

    # --- producers -------------------------------------------------------------------------

    def put(
        self,
        klass: type | str,
        data: Any,
        priority: int | None = None,
        tags: Sequence[str] | None = None,
        delay: float | None = None,
        retries: int | None = None,
        jid: str | None = None,
        depends: Sequence[str] | None = None,
        throttles: Sequence[str] | None = None,
    ) -> str:
        """Put a job (``klass`` and JSON ``data``); returns its jid. ``priority``: lower runs
        sooner; ``delay``: seconds before it may run; ``retries``: how often it is retried
        (default 5); ``depends``: jids that must complete first; ``throttles``: limits it
        counts against while it runs."""
        spec = JobSpec(
            type=class_string(klass),
            kind=KIND,
            queue=self.name,
            values=to_values(data),
            uuid=jid or uuidlib.uuid4().hex,
            priority=0 if priority is None else priority,
            delay_seconds=float(delay or 0),
            max_retries=DEFAULT_RETRIES if retries is None else retries,
            tags=_names("tags", tags),
            depends=depends or (),
            throttles=_names("throttles", throttles),
        )
        return self.client.store.enqueue(spec)

    def recur(
        self,
        klass: type | str,
        data: Any,
        interval: float | None = None,
        offset: float = 0,
        priority: int | None = None,
        tags: Sequence[str] | None = None,
        retries: int | None = None,
        jid: str | None = None,
        backlog: int | None = None,
        cron: str | None = None,
        throttles: Sequence[str] | None = None,
    ) -> str:
        """Put a job every ``interval`` seconds (or on a ``cron`` line), the first after
        ``offset`` seconds; returns the recurrence's id (``client.jobs[id]``)."""
        store = self.client.store
        spec = RecurSpec(
            type=class_string(klass),
            kind=KIND,
            queue=self.name,
            values=to_values(data),
            interval_seconds=interval,
            cron=cron,
            offset_seconds=float(offset or 0),
            id=jid or uuidlib.uuid4().hex,
            priority=0 if priority is None else priority,
            tags=_names("tags", tags),
            max_retries=DEFAULT_RETRIES if retries is None else retries,
            ttr_seconds=configuration.heartbeat_for(store.config(), self.name),
            backlog=backlog or 0,
            throttles=_names("throttles", throttles),
        )
        return store.recur(spec)

    # --- consumers -------------------------------------------------------------------------

    @overload
    def pop(self, count: None = None) -> Job | None: ...

    @overload
    def pop(self, count: int) -> list[Job]: ...

    def pop(self, count: int | None = None) -> Job | list[Job] | None:
        """The next job (None when there is none), or a list of up to ``count`` jobs. This
        client holds their locks: heartbeat, then complete, fail or retry each."""
        store = self.client.store
        store.rescue_expired()  # qless's pop takes back jobs whose lock expired, first.
        popped: list[Job] = []
        for _ in range(1 if count is None else max(0, count)):
            reservation = store.reserve([self.name], self.worker_name)
            if reservation is None:
                break
            record = reservation.record
            hold = LeaseHold(store, reservation.lease, float(record["ttr_seconds"]))
            popped.append(Job(self.client, record, hold))
        if count is None:
            return popped[0] if popped else None
        return popped

    @overload
    def peek(self, count: None = None) -> Job | None: ...

    @overload
    def peek(self, count: int) -> list[Job]: ...

    def peek(self, count: int | None = None) -> Job | list[Job] | None:
        """The job(s) ``pop`` would give next, without taking them: lowest priority first,
        then first put first."""
        ready = self._ready()[: 1 if count is None else max(0, count)]
        hold = NoHold(self.client.store, "peeked at, not popped")
        jobs = [Job(self.client, record, hold) for record in ready]
        if count is None:
            return jobs[0] if jobs else None
        return jobs

    def _ready(self) -> list[Record]:
        store = self.client.store
        now = store.clock()
        found: list[tuple[int, float, int, Record]] = []
        for state in (State.WAITING.value, State.SCHEDULED.value):
            for index, record in enumerate(all_records(store, state=state, queue=self.name)):
                if record["ready_at"] <= now:
                    found.append((record["priority"], record["created_at"], -index, record))
        found.sort(key=lambda item: item[:3])
        return [item[3] for item in found]

    # --- the queue -------------------------------------------------------------------------

    def stats(self, date: float | None = None) -> dict[str, Any]:
        """Wait and run times (count, mean, std, histogram), failures and retries of the
        queue on the day of ``date`` (default today, UTC)."""
        stats = self.client.store.queue_stats(self.name, date)
        stats["failed"] = stats["failures"]  # qless's name for it.
        return stats

    def pause(self) -> None:
        """Stop handing out jobs from this queue (running ones go on)."""
        self.client.store.pause_queue(self.name)

    def unpause(self) -> None:
        """Hand out jobs from this queue again."""
        self.client.store.resume_queue(self.name)

    @property
    def counts(self) -> dict[str, Any]:
        """name, paused, waiting, running, stalled, scheduled, depends and recurring."""
        store = self.client.store
        per_state = store.counts().get(self.name, {})
        return queue_counts(store, self.name, per_state, store.paused_queues())

    @property
    def heartbeat(self) -> float:
        """Seconds a lock lasts in this queue (config ``<queue>-heartbeat`` or
        ``heartbeat``)."""
        return configuration.heartbeat_for(self.client.store.config(), self.name)

    @heartbeat.setter
    def heartbeat(self, seconds: float) -> None:
        self.client.store.set_config(f"{self.name}-heartbeat", seconds)

    def __len__(self) -> int:
        """Jobs waiting, scheduled or running (qless's length)."""
        per_state = self.client.store.counts().get(self.name, {})
        return sum(per_state.get(s, 0) for s in (State.WAITING, State.SCHEDULED, State.RUNNING))


def _names(what: str, names: Sequence[str] | None) -> tuple[str, ...]:
    """A list of names; one string (a common slip) is refused rather than split in letters."""
    if isinstance(names, str):
        raise InvalidOptions(f"{what} is a list of strings, not the string {names!r}")
    return tuple(names or ())
