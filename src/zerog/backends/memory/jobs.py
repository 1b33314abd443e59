"""The memory backend's jobs role: put, the one write, leases, operators, reads."""

from __future__ import annotations

import heapq
import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import replace

from zerog import flow, lifecycle
from zerog import recurrence as recurrences
from zerog.backends.memory._base import (
    FINAL,
    QUEUED,
    READY,
    copy_out,
    detached,
    past_ttl,
)
from zerog.backends.memory.rates import MemoryRates
from zerog.errors import (
    DependencyCycle,
    DuplicateJob,
    InvalidTransition,
    JobNotFound,
    ReservationLost,
)
from zerog.lifecycle import plan_action
from zerog.model import (
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
    Settlement,
    State,
)


class MemoryJobs(MemoryRates):
    """Jobs put, claimed, settled, rescued, changed and read."""

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
            if self._full(flow.QUEUE_LIMIT + queue) or self._rate_full(
                flow.QUEUE_LIMIT + queue, now
            ):
                continue
            record = self._take(queue, now)
            if record is not None:
                lifecycle.start_run(record, request.worker, now)
                self._started(record, now)
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
                return Reservation(lease, copy_out(record))
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

    def _may_run(self, record: Record, now: float) -> bool:
        throttles = record.get("throttles") or ()
        return not any(self._full(name) for name in throttles) and self._rate_allows(record, now)

    def _take(self, queue: str, now: float) -> Record | None:
        """Pop the queue's first due job that its limits let run, expiring the ones past
        their TTL on the way (in a fair queue: the next key's, see MemoryRates)."""
        if queue in self._fair_queues:
            return self._take_fair(queue, now)
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
            if record["ready_at"] > now or not self._may_run(record, now):
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

    def _take_fair(self, queue: str, now: float) -> Record | None:
        while True:
            picked = self._fair_pick(queue, now, lambda record: self._may_run(record, now))
            if picked is None:
                return None
            entry, record = picked
            heap = self._heaps[queue]
            heap.remove(entry)
            heapq.heapify(heap)
            if not past_ttl(record, now):
                return record
            lifecycle.expire(record, now)
            self._log(record["uuid"], now, "expired", State.EXPIRED.value)
            self._changed_state(record, State.WAITING.value, now)

    def next_due(self, queues: Sequence[str]) -> float | None:
        """Only when a full rate window frees (the memory backend's waiter hears its puts)."""
        with self._atomic() as now:
            return self._rate_next(now)

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
            lifecycle.apply_progress(record, detached(progress))
            record["lease_expires_at"] = now + record["ttr_seconds"]
            record["updated_at"] = now
            return Control(record["control"] or "")

    def _settle(self, lease: Lease, settlement: Settlement, now: float) -> None:
        record = self._held(lease)
        pending, blocked = self._dependencies(list(settlement.depends))
        if settlement.progress is not None:
            settlement = replace(settlement, progress=detached(settlement.progress))
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
                elif before in READY and past_ttl(record, now):
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
            return copy_out(record)

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

    def delete(self, uuid: str, worker: str | None = None) -> bool:
        with self._atomic():
            record = self._jobs.get(uuid)
            if record is None:
                return False
            if record["state"] not in FINAL or self._waited_for(record):
                raise InvalidTransition(uuid, record["state"], "delete")
            self._forget([uuid])
            return True

    def _waited_for(self, record: Record) -> bool:
        """Whether a job in ``depends`` still lists ``record`` among what it waits for."""
        for uuid in record.get("dependents") or ():
            dependent = self._jobs.get(uuid)
            if (
                dependent is not None
                and dependent["state"] == State.DEPENDS.value
                and record["uuid"] in (dependent.get("depends") or ())
            ):
                return True
        return False

    def ping(self, write: bool = False) -> None:
        with self._atomic():
            return

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
            copy = copy_out(record)
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
            return Page([copy_out(r) for r in page], cursor)

    def counts(self) -> dict[str, dict[str, int]]:
        with self._atomic():
            out: dict[str, dict[str, int]] = {}
            for record in self._jobs.values():
                per_state = out.setdefault(record["queue"], {})
                per_state[record["state"]] = per_state.get(record["state"], 0) + 1
            return out
