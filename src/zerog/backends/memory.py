"""``memory://``: a complete backend in one process's memory, for tests and zerog.testing.

One lock makes every method one atomic step. Records are copied in and out as JSON, so a
caller can never change a stored record by accident, and what is not JSON fails as it would
on any other backend.
"""

from __future__ import annotations

import heapq
import json
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

from zerog import flow, lifecycle, stats
from zerog import recurrence as recurrences
from zerog.backends.contract import STALE_WORKER_SECONDS, FullBackend
from zerog.errors import (
    DependencyCycle,
    DuplicateJob,
    InvalidTransition,
    JobNotFound,
    ReservationLost,
    UnknownDependency,
)
from zerog.lifecycle import history_entry, plan_action
from zerog.model import (
    FINAL_STATES,
    QUEUED_STATES,
    Batch,
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
    Retention,
    Settlement,
    State,
)
from zerog.record import public as record_public

READY = (State.WAITING.value, State.SCHEDULED.value)
FINAL = frozenset(s.value for s in FINAL_STATES)
QUEUED = frozenset(s.value for s in QUEUED_STATES)
PRUNABLE = (State.COMPLETE.value, State.CANCELLED.value, State.EXPIRED.value)


class MemoryBackend(FullBackend):
    """Every job in a dict; a heap per queue of (priority, seq, uuid) for reserve."""

    def __init__(self, clock: Callable[[], float] | None = None) -> None:
        super().__init__(clock)
        self._lock = threading.RLock()
        self._jobs: dict[str, Record] = {}
        self._history: dict[str, list[dict[str, Any]]] = {}
        self._heaps: dict[str, list[tuple[int, int, str]]] = {}
        self._seq = 0
        self._paused: set[str] = set()
        self._workers: dict[str, dict[str, Any]] = {}
        self._uniques: dict[str, str] = {}  # unique key -> the job holding it.
        self._debounce: dict[str, dict[str, Any]] = {}  # debounce key -> its plan entry.
        self._recurrences: dict[str, dict[str, Any]] = {}
        self._limits: dict[str, int] = {}
        self._running: set[str] = set()
        self._config: dict[str, Any] = {}
        self._stats: dict[tuple[str, float], dict[str, Any]] = {}

    @contextmanager
    def _atomic(self) -> Iterator[float]:
        with self._lock:
            yield self.clock()

    def _log(
        self,
        uuid: str,
        at: float,
        event: str,
        state: str,
        worker: str | None = None,
        detail: str | None = None,
    ) -> None:
        entries = self._history[uuid]
        entries.append(history_entry(at, event, state, worker, detail))
        if self.history_limit is not None and len(entries) > self.history_limit:
            del entries[: len(entries) - self.history_limit]

    def _enqueue(self, record: Record) -> None:
        heapq.heappush(
            self._heaps.setdefault(record["queue"], []),
            (record["priority"], record["_seq"], record["uuid"]),
        )

    # --- producers ---------------------------------------------------------------------------

    def put(self, record: Record) -> Placed:
        with self._atomic() as now:
            return self._put(record, now)

    def put_many(self, records: Iterable[Record]) -> list[Placed]:
        """All of them or none: when one put fails, the jobs stored before it are taken out
        again (the work is the batch's size, not the store's)."""
        with self._atomic() as now:
            placed: list[Placed] = []
            debounce, seq = dict(self._debounce), self._seq
            try:
                for record in records:
                    placed.append(self._put(record, now))
            except BaseException:
                self._forget([p.uuid for p in placed if p.outcome in ("put", "delayed")])
                self._debounce, self._seq = debounce, seq
                raise
            return placed

    def _put(self, record: Record, now: float) -> Placed:
        uuid = record["uuid"]
        if uuid in self._jobs:
            raise ValueError(f"a job with id {uuid!r} exists")
        pending, blocked = self._dependencies(list(record.get("depends") or ()))
        held = self._holder(record.get("unique_key"))
        if held is not None:
            if record.get("_on_duplicate") == "refuse":
                raise DuplicateJob(record["unique_key"], held)
            return Placed(held, "merged")
        outcome, stored = "put", json.loads(json.dumps(record_public(record)))
        plan = record.get("_debounce")
        if plan is not None:
            outcome, delay, entry = flow.debounce_plan(
                self._debounce.get(plan["key"]), now, plan["seconds"], plan["always_delay"]
            )
            if outcome == "skipped":
                return Placed(entry["uuid"], outcome)
            self._debounce[plan["key"]] = {**entry, "uuid": uuid}
            if delay > 0:
                stored["state"], stored["ready_at"] = State.SCHEDULED.value, now + delay
        self._store_new(stored, pending, blocked, now)
        return Placed(uuid, outcome)

    def _store_new(
        self, stored: Record, pending: list[str], blocked: dict[str, str], now: float
    ) -> None:
        uuid = stored["uuid"]
        for key in ("dependents", "tags", "throttles"):
            stored.setdefault(key, [])
        self._seq += 1
        stored["_seq"] = self._seq
        stored["blocked_by"] = blocked
        flow.wait_for(stored, pending, now)
        self._jobs[uuid] = stored
        self._history[uuid] = []
        self._log(uuid, now, "put", stored["state"])
        for dependency in pending:
            self._jobs[dependency]["dependents"].append(uuid)
        if stored.get("unique_key"):
            self._uniques[stored["unique_key"]] = uuid
        if stored["state"] in READY:
            self._enqueue(stored)

    def _dependencies(self, depends: list[str]) -> tuple[list[str], dict[str, str]]:
        """The unfinished ones of ``depends``, and those that block (failed, ...)."""
        missing = [d for d in depends if d not in self._jobs]
        if missing:
            raise UnknownDependency(missing)
        pending = [d for d in depends if self._jobs[d]["state"] != State.COMPLETE.value]
        blocked = {d: self._jobs[d]["state"] for d in pending if self._jobs[d]["state"] in FINAL}
        return pending, blocked

    def _holder(self, key: str | None) -> str | None:
        """The job holding a unique key now, if any."""
        if not key:
            return None
        uuid = self._uniques.get(key)
        if uuid is not None and self._jobs.get(uuid, {}).get("state") in flow.HOLDS_KEY:
            return uuid
        return None

    def _forget(self, uuids: list[str]) -> None:
        """Take jobs just put out again (their heap entries turn stale and are skipped)."""
        for uuid in uuids:
            record = self._jobs.pop(uuid)
            del self._history[uuid]
            for dependency in record.get("depends") or ():
                dependents = self._jobs.get(dependency, {}).get("dependents") or []
                if uuid in dependents:
                    dependents.remove(uuid)
            if self._uniques.get(record.get("unique_key") or "") == uuid:
                del self._uniques[record["unique_key"]]

    def _changed_state(self, record: Record, before: str, now: float) -> None:
        """What follows a state change in the same step: the unique key, the dependents, and
        the running set the limits count."""
        after, uuid = record["state"], record["uuid"]
        if before == after:
            return
        if after == State.RUNNING.value:
            self._running.add(uuid)
        elif before == State.RUNNING.value:
            self._running.discard(uuid)
        if after in FINAL and self._uniques.get(record.get("unique_key") or "") == uuid:
            del self._uniques[record["unique_key"]]
        if before in FINAL and after not in FINAL and record.get("unique_key"):
            self._uniques[record["unique_key"]] = uuid
        if after == State.COMPLETE.value:
            self._release_dependents(record, now)
        elif after in FINAL or before in FINAL:
            self._block_dependents(record, after if after in FINAL else None, now)

    def _release_dependents(self, record: Record, now: float) -> None:
        for uuid in record.get("dependents") or ():
            dependent = self._jobs.get(uuid)
            if dependent is not None and flow.dependency_done(dependent, record["uuid"], now):
                self._log(uuid, now, "dependencies-met", dependent["state"], None, record["uuid"])
                self._enqueue(dependent)

    def _block_dependents(self, record: Record, state: str | None, now: float) -> None:
        for uuid in record.get("dependents") or ():
            dependent = self._jobs.get(uuid)
            if dependent is None or dependent["state"] != State.DEPENDS.value:
                continue
            flow.dependency_blocked(dependent, record["uuid"], state, now)
            event = f"dependency-{state}" if state else "dependency-retried"
            self._log(uuid, now, event, dependent["state"], None, record["uuid"])

    # --- workers -----------------------------------------------------------------------------

    def settle_batch(
        self,
        finished: Sequence[tuple[Lease, Settlement]],
        request: ReserveRequest | None,
        count: int,
    ) -> Batch:
        """One atomic step, under the lock. What may refuse a settlement (a result that is not
        JSON, a pipeline step's unknown dependency) is checked for all of them before any is
        written, so a refused one leaves the whole batch unwritten."""
        finished = list(finished)
        with self._atomic() as now:
            for _lease, settlement in finished:  # what may refuse a settlement, before any.
                json.dumps([settlement.result, settlement.error])
                self._dependencies(list(settlement.depends))
            lost = []
            for lease, settlement in finished:
                try:
                    self._settle(lease, settlement, now)
                except ReservationLost:
                    lost.append(lease.uuid)
            taken: list[Reservation] = []
            while request is not None and len(taken) < count:
                reservation = self._reserve(request, now)
                if reservation is None:
                    break
                taken.append(reservation)
        return Batch(lost=lost, reservations=taken)

    def _reserve(self, request: ReserveRequest, now: float) -> Reservation | None:
        for queue in request.queues:
            if queue in self._paused:
                continue
            self._spawn(queue, now)
            if self._full(flow.QUEUE_LIMIT + queue):
                continue
            record = self._take(queue, now)
            if record is not None:
                lifecycle.start_run(record, request.worker, now)
                self._running.add(record["uuid"])
                self._log(
                    record["uuid"],
                    now,
                    "reserved",
                    State.RUNNING.value,
                    request.worker,
                    f"attempt {record['attempts']}",
                )
                lease = Lease(record["uuid"], record["lease_token"], request.worker)
                return Reservation(lease, _copy(record))
        return None

    def _spawn(self, queue: str, now: float) -> None:
        """Spawn the jobs the queue's recurrences owe (in the reserve's step)."""
        for recurrence in self._recurrences.values():
            if recurrence["queue"] != queue or recurrence["next_at"] > now:
                continue
            for job in recurrences.spawn(recurrence, now):
                if job["uuid"] not in self._jobs:
                    self._put(job, now)

    def _full(self, name: str) -> bool:
        maximum = self._limits.get(name)
        if maximum is None:
            return False
        running = sum(1 for uuid in self._running if name in flow.limit_names(self._jobs[uuid]))
        return running >= maximum

    def _may_run(self, record: Record) -> bool:
        return not any(self._full(name) for name in record.get("throttles") or ())

    def _take(self, queue: str, now: float) -> Record | None:
        """Pop the queue's first due job that its limits let run, expiring the ones past
        their TTL on the way."""
        heap = self._heaps.get(queue, [])
        later: list[tuple[int, int, str]] = []
        found = None
        while heap:
            entry = heapq.heappop(heap)
            record = self._jobs.get(entry[2])
            if (
                record is None
                or record["state"] not in READY
                or record["queue"] != queue
                or record["priority"] != entry[0]
            ):
                continue  # stale entry: the job moved on since it was pushed.
            if record["ready_at"] > now or not self._may_run(record):
                later.append(entry)
                continue
            if record["expires_at"] is not None and record["expires_at"] <= now:
                lifecycle.expire(record, now)
                self._log(record["uuid"], now, "expired", State.EXPIRED.value)
                self._changed_state(record, State.WAITING.value, now)
                continue
            found = record
            break
        for entry in later:
            heapq.heappush(heap, entry)
        return found

    def _held(self, lease: Lease) -> Record:
        record = self._jobs.get(lease.uuid)
        if (
            record is None
            or record["state"] != State.RUNNING.value
            or record["lease_token"] != lease.token
        ):
            raise ReservationLost(lease.uuid, lease.token)
        return record

    def touch(self, lease: Lease) -> Control:
        with self._atomic() as now:
            record = self._held(lease)
            record["lease_expires_at"] = now + record["ttr_seconds"]
            return Control(record["control"] or "")

    def save(self, lease: Lease, progress: Progress) -> Control:
        with self._atomic() as now:
            record = self._held(lease)
            lifecycle.apply_progress(record, _detached(progress))
            record["lease_expires_at"] = now + record["ttr_seconds"]
            record["updated_at"] = now
            return Control(record["control"] or "")

    def _settle(self, lease: Lease, settlement: Settlement, now: float) -> None:
        record = self._held(lease)
        pending, blocked = self._dependencies(list(settlement.depends))
        if settlement.progress is not None:
            settlement = replace(settlement, progress=_detached(settlement.progress))
        state = lifecycle.apply_settlement(record, settlement, now)
        detail = settlement.error["msg"] if settlement.error else settlement.queue
        if settlement.queue is not None and pending:
            record["blocked_by"] = blocked
            flow.wait_for(record, pending, now)
            for dependency in pending:
                self._jobs[dependency]["dependents"].append(lease.uuid)
            state = record["state"]
        self._log(lease.uuid, now, settlement.event, state, lease.worker, detail)
        self._changed_state(record, State.RUNNING.value, now)
        if state in READY:
            self._enqueue(record)

    def rescue_expired(self, limit: int = 100) -> list[str]:
        moved: list[str] = []
        with self._atomic() as now:
            for record in list(self._jobs.values()):
                if len(moved) >= limit:
                    break
                before = record["state"]
                if before == State.RUNNING.value and record["lease_expires_at"] <= now:
                    state, event = lifecycle.rescue(record, now)
                    self._log(record["uuid"], now, event, state)
                    if state in READY:
                        self._enqueue(record)
                elif before in READY and _past_ttl(record, now):
                    lifecycle.expire(record, now)
                    self._log(record["uuid"], now, "expired", State.EXPIRED.value)
                else:
                    continue
                self._changed_state(record, before, now)
                moved.append(record["uuid"])
        return moved

    # --- operators ---------------------------------------------------------------------------

    def act(self, uuid: str, action: str, worker: str | None = None) -> State:
        with self._atomic() as now:
            record = self._jobs.get(uuid)
            if record is None:
                raise JobNotFound(uuid)
            before = record["state"]
            move = plan_action(uuid, before, action)
            if move.to is None:
                if move.expire_lease:
                    record["lease_expires_at"] = now
                else:
                    record["control"] = action
                self._log(uuid, now, move.event, before, worker)
                return State.RUNNING
            if before in FINAL:
                held = self._holder(record.get("unique_key"))
                if held is not None and held != uuid:
                    raise DuplicateJob(record["unique_key"], held)
            lifecycle.operator_move(record, move, now)
            self._log(uuid, now, move.event, move.to.value, worker)
            self._changed_state(record, before, now)
            if move.to.value in READY:
                self._enqueue(record)
            return move.to

    def kick(self, queue: str, limit: int) -> int:
        with self._atomic():
            failed = sorted(
                (
                    r
                    for r in self._jobs.values()
                    if r["queue"] == queue and r["state"] == State.FAILED.value
                ),
                key=lambda r: (r["finished_at"] or 0, r["_seq"]),
            )[: max(0, limit)]
            for record in failed:
                self.act(record["uuid"], "retry")
            return len(failed)

    # --- queues and workers ------------------------------------------------------------------

    def pause_queue(self, queue: str, paused: bool) -> None:
        with self._atomic():
            if paused:
                self._paused.add(queue)
            else:
                self._paused.discard(queue)

    def paused_queues(self) -> frozenset[str]:
        with self._atomic():
            return frozenset(self._paused)

    def register_worker(self, worker: dict[str, Any]) -> None:
        with self._atomic() as now:
            entry = json.loads(json.dumps(worker))
            entry["last_seen"] = now
            self._workers[entry["id"]] = entry
            for worker_id, known in list(self._workers.items()):
                if known["last_seen"] < now - STALE_WORKER_SECONDS:
                    del self._workers[worker_id]

    def unregister_worker(self, worker_id: str) -> None:
        with self._atomic():
            self._workers.pop(worker_id, None)

    def workers(self, max_age_seconds: float) -> list[dict[str, Any]]:
        with self._atomic() as now:
            cutoff = now - max_age_seconds  # a read: stale entries are skipped, not deleted.
            live = sorted(
                (w for w in self._workers.values() if w["last_seen"] >= cutoff),
                key=lambda w: w.get("started_at") or 0,
            )
            copies: list[dict[str, Any]] = json.loads(json.dumps(live))
            return copies

    # --- flow --------------------------------------------------------------------------------

    def alter(self, uuid: str, change: Change, worker: str | None = None) -> Record:
        with self._atomic() as now:
            record = self._jobs.get(uuid)
            if record is None:
                raise JobNotFound(uuid)
            before = record["state"]
            if change.moves_job and before not in QUEUED:
                raise InvalidTransition(
                    uuid, before, "change the queue, priority or dependencies of"
                )
            if change.delay_seconds is not None and before not in lifecycle.RESCHEDULABLE:
                raise InvalidTransition(uuid, before, "reschedule")
            added = self._new_dependencies(uuid, change.depend)
            self._alter_placement(record, change, worker, now)
            self._alter_labels(record, change)
            if change.depend or change.undepend or change.undepend_all:
                self._alter_dependencies(record, change, added, worker, now)
            if record["state"] in READY:
                self._enqueue(record)
            return _copy(record)

    def _new_dependencies(self, uuid: str, depend: Sequence[str]) -> list[str]:
        """The unfinished ones of ``depend``; refuses unknown ids and cycles first."""
        pending, _blocked = self._dependencies(list(depend))
        for on in pending:
            if flow.would_cycle(uuid, on, self._waits_of):
                raise DependencyCycle(uuid, on)
        return pending

    def _waits_of(self, uuid: str) -> list[str]:
        """A job's unfinished dependencies (none for a job that was pruned)."""
        return list(self._jobs.get(uuid, {}).get("depends") or ())

    def _alter_placement(
        self, record: Record, change: Change, worker: str | None, now: float
    ) -> None:
        uuid = record["uuid"]
        if change.priority is not None and change.priority != record["priority"]:
            detail = f"{record['priority']} -> {change.priority}"
            record["priority"] = change.priority
            self._log(uuid, now, "priority", record["state"], worker, detail)
        if change.queue is not None and change.queue != record["queue"]:
            detail = f"{record['queue']} -> {change.queue}"
            record["queue"] = change.queue
            self._log(uuid, now, "moved", record["state"], worker, detail)
        if change.delay_seconds is not None:
            detail = lifecycle.reschedule(record, change.delay_seconds, now)
            self._log(uuid, now, "rescheduled", record["state"], worker, detail)
        record["updated_at"] = now

    @staticmethod
    def _alter_labels(record: Record, change: Change) -> None:
        tags = [t for t in record["tags"] if t not in change.remove_tags]
        record["tags"] = list(dict.fromkeys([*tags, *change.add_tags]))
        if change.tracked is not None:
            record["tracked"] = change.tracked

    def _alter_dependencies(
        self, record: Record, change: Change, added: list[str], worker: str | None, now: float
    ) -> None:
        uuid, before = record["uuid"], record["state"]
        dropped = list(record["depends"]) if change.undepend_all else list(change.undepend)
        pending = [d for d in record["depends"] if d not in dropped]
        pending = list(dict.fromkeys([*pending, *added]))
        for dependency in dropped:
            other = self._jobs.get(dependency)
            if other is not None and uuid in other["dependents"]:
                other["dependents"].remove(uuid)
            record["blocked_by"].pop(dependency, None)
        for dependency in added:
            if uuid not in self._jobs[dependency]["dependents"]:
                self._jobs[dependency]["dependents"].append(uuid)
            if self._jobs[dependency]["state"] in FINAL:
                record["blocked_by"][dependency] = self._jobs[dependency]["state"]
        flow.wait_for(record, pending, now)
        if added:
            self._log(uuid, now, "depends", record["state"], worker, ", ".join(added))
        if dropped:
            self._log(uuid, now, "undepends", record["state"], worker, ", ".join(dropped))
        if before == State.DEPENDS.value and record["state"] != before:
            self._log(uuid, now, "dependencies-met", record["state"], worker)

    def recur(self, recurrence: dict[str, Any]) -> None:
        with self._atomic():
            doc = json.loads(json.dumps(recurrence))
            known = self._recurrences.get(doc["id"])
            if known is not None:
                doc["count"] = known["count"]  # spawned ids never repeat.
            self._recurrences[doc["id"]] = doc

    def unrecur(self, recurrence_id: str) -> bool:
        with self._atomic():
            return self._recurrences.pop(recurrence_id, None) is not None

    def recurrences(self, queue: str | None = None) -> list[dict[str, Any]]:
        with self._atomic():
            found = [r for r in self._recurrences.values() if queue is None or r["queue"] == queue]
            copies: list[dict[str, Any]] = json.loads(json.dumps(found))
            return copies

    def update_recurrence(self, recurrence_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        with self._atomic() as now:
            doc = self._recurrences.get(recurrence_id)
            if doc is None:
                raise JobNotFound(recurrence_id)
            changed = json.loads(json.dumps(doc))
            recurrences.apply_update(changed, json.loads(json.dumps(changes)), now)
            self._recurrences[recurrence_id] = changed
            copy: dict[str, Any] = json.loads(json.dumps(changed))
            return copy

    def set_limit(self, name: str, maximum: int | None) -> None:
        with self._atomic():
            if maximum is None:
                self._limits.pop(name, None)
            else:
                self._limits[name] = int(maximum)

    def limits(self) -> dict[str, int]:
        with self._atomic():
            return dict(self._limits)

    def config(self) -> dict[str, Any]:
        with self._atomic():
            copy: dict[str, Any] = json.loads(json.dumps(self._config))
            return copy

    def set_config(self, key: str, value: Any) -> None:
        with self._atomic():
            if value is None:
                self._config.pop(key, None)
            else:
                self._config[key] = json.loads(json.dumps(value))

    def add_stats(self, deltas: Sequence[Any]) -> None:
        with self._atomic():
            for delta in deltas:
                key = (delta.queue, delta.day)
                self._stats[key] = stats.merge(self._stats.get(key) or stats.empty(), delta)

    def stats(self, queue: str, day: float) -> dict[str, Any]:
        with self._atomic():
            found = self._stats.get((queue, day)) or stats.empty()
            copy: dict[str, Any] = json.loads(json.dumps(found))
            return copy

    def prune(self, retention: Retention, limit: int = 1000) -> int:
        with self._atomic() as now:
            finished = sorted(
                (r for r in self._jobs.values() if r["state"] in PRUNABLE),
                key=lambda r: (r["finished_at"] or 0, r["_seq"]),
                reverse=True,
            )
            cutoff = now - retention.jobs_seconds
            doomed = [
                r["uuid"]
                for i, r in enumerate(finished)
                if i >= retention.jobs_count or (r["finished_at"] or 0) < cutoff
            ][: max(0, limit)]
            for uuid in doomed:
                del self._jobs[uuid]
                del self._history[uuid]
            self._prune_stats(retention, now)
            return len(doomed)

    def _prune_stats(self, retention: Retention, now: float) -> None:
        today = stats.day_of(now)
        for key in list(self._stats):
            day = key[1]
            if day < today - retention.stats_days * stats.DAY:
                del self._stats[key]
            elif day < today - retention.histogram_days * stats.DAY:
                self._stats[key] = stats.without_histograms(self._stats[key])

    def top_tags(self, limit: int = 20) -> list[tuple[str, int]]:
        with self._atomic():
            counted = Counter(tag for r in self._jobs.values() for tag in r.get("tags") or ())
            return sorted(counted.items(), key=lambda item: (-item[1], item[0]))[:limit]

    # --- readers -----------------------------------------------------------------------------

    def get(self, uuid: str, history: bool = False) -> Record:
        with self._atomic():
            record = self._jobs.get(uuid)
            if record is None:
                raise JobNotFound(uuid)
            copy = _copy(record)
            if history:
                copy["history"] = json.loads(json.dumps(self._history[uuid]))
            return copy

    def list(self, query: ListQuery) -> Page:
        with self._atomic():
            start = int(query.cursor) if query.cursor else None
            found = [
                r
                for r in sorted(self._jobs.values(), key=lambda r: -r["_seq"])
                if (start is None or r["_seq"] < start) and query.matches(r)
            ][: query.limit + 1]
            more = len(found) > query.limit
            page = found[: query.limit]
            cursor = str(page[-1]["_seq"]) if more and page else None
            return Page([_copy(r) for r in page], cursor)

    def counts(self) -> dict[str, dict[str, int]]:
        with self._atomic():
            out: dict[str, dict[str, int]] = {}
            for record in self._jobs.values():
                per_state = out.setdefault(record["queue"], {})
                per_state[record["state"]] = per_state.get(record["state"], 0) + 1
            return out


def _copy(record: Record) -> Record:
    copy: Record = json.loads(json.dumps(record_public(record)))
    return copy


def _past_ttl(record: Record, now: float) -> bool:
    return record["expires_at"] is not None and record["expires_at"] <= now


def _detached(progress: Progress) -> Progress:
    """A copy of the progress sharing no objects with the caller (and checked to be JSON)."""
    doc = json.loads(json.dumps([progress.values, list(progress.events), list(progress.errors)]))
    return replace(progress, values=doc[0], events=doc[1], errors=doc[2])
