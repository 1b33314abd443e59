"""``memory://``: a complete backend in one process's memory, for tests and zerog.testing.

One lock makes every method one atomic step. Records are copied in and out as JSON, so a
caller can never change a stored record by accident, and what is not JSON fails as it would
on any other backend.
"""

from __future__ import annotations

import heapq
import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

from zerog.backends import _common
from zerog.backends.base import (
    STALE_WORKER_SECONDS,
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
    history_entry,
    plan_action,
)
from zerog.errors import JobNotFound, ReservationLost
from zerog.record import Record
from zerog.states import State

READY = (State.WAITING.value, State.SCHEDULED.value)


class MemoryBackend(Backend):
    """Every job in a dict; a heap per queue of (priority, seq, uuid) for reserve."""

    capabilities = frozenset({Capability.FAKE_CLOCK})

    def __init__(self, clock: Callable[[], float] | None = None) -> None:
        super().__init__(clock)
        self._lock = threading.RLock()
        self._jobs: dict[str, Record] = {}
        self._history: dict[str, list[dict[str, Any]]] = {}
        self._heaps: dict[str, list[tuple[int, int, str]]] = {}
        self._seq = 0
        self._paused: set[str] = set()
        self._workers: dict[str, dict[str, Any]] = {}

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
        self._history[uuid].append(history_entry(at, event, state, worker, detail))

    def _enqueue(self, record: Record) -> None:
        heapq.heappush(
            self._heaps.setdefault(record["queue"], []),
            (record["priority"], record["_seq"], record["uuid"]),
        )

    # --- producers ---------------------------------------------------------------------------

    def put(self, record: Record) -> None:
        with self._atomic() as now:
            uuid = record["uuid"]
            if uuid in self._jobs:
                raise ValueError(f"a job with id {uuid!r} exists")
            self._seq += 1
            stored = json.loads(json.dumps(record))
            stored["_seq"] = self._seq
            self._jobs[uuid] = stored
            self._history[uuid] = []
            self._log(uuid, now, "put", stored["state"])
            self._enqueue(stored)

    # --- workers -----------------------------------------------------------------------------

    def reserve(self, request: ReserveRequest) -> Reservation | None:
        with self._atomic() as now:
            for queue in request.queues:
                if queue in self._paused:
                    continue
                record = self._take(queue, now)
                if record is not None:
                    _common.start_run(record, request.worker, now)
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

    def _take(self, queue: str, now: float) -> Record | None:
        """Pop the queue's first due job, expiring the ones past their TTL on the way."""
        heap = self._heaps.get(queue, [])
        later: list[tuple[int, int, str]] = []
        found = None
        while heap:
            entry = heapq.heappop(heap)
            record = self._jobs.get(entry[2])
            if record is None or record["state"] not in READY or record["queue"] != queue:
                continue  # stale entry: the job moved on since it was pushed.
            if record["ready_at"] > now:
                later.append(entry)
                continue
            if record["expires_at"] is not None and record["expires_at"] <= now:
                _common.expire(record, now)
                self._log(record["uuid"], now, "expired", State.EXPIRED.value)
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
            _common.apply_progress(record, _detached(progress))
            record["lease_expires_at"] = now + record["ttr_seconds"]
            record["updated_at"] = now
            return Control(record["control"] or "")

    def settle(self, lease: Lease, settlement: Settlement) -> None:
        with self._atomic() as now:
            record = self._held(lease)
            json.dumps([settlement.result, settlement.error])  # refuse non-JSON before writing
            if settlement.progress is not None:
                settlement = replace(settlement, progress=_detached(settlement.progress))
            state = _common.apply_settlement(record, settlement, now)
            detail = settlement.error["msg"] if settlement.error else None
            self._log(lease.uuid, now, settlement.event, state, lease.worker, detail)
            if state in READY:
                self._enqueue(record)

    def rescue_expired(self, limit: int = 100) -> list[str]:
        moved: list[str] = []
        with self._atomic() as now:
            for record in list(self._jobs.values()):
                if len(moved) >= limit:
                    break
                if record["state"] == State.RUNNING.value and record["lease_expires_at"] <= now:
                    state, event = _common.rescue(record, now)
                    self._log(record["uuid"], now, event, state)
                    if state in READY:
                        self._enqueue(record)
                    moved.append(record["uuid"])
                elif record["state"] in READY and _past_ttl(record, now):
                    _common.expire(record, now)
                    self._log(record["uuid"], now, "expired", State.EXPIRED.value)
                    moved.append(record["uuid"])
        return moved

    # --- operators ---------------------------------------------------------------------------

    def act(self, uuid: str, action: str, worker: str | None = None) -> State:
        with self._atomic() as now:
            record = self._jobs.get(uuid)
            if record is None:
                raise JobNotFound(uuid)
            move = plan_action(uuid, record["state"], action)
            if move.to is None:
                record["control"] = action
                self._log(uuid, now, move.event, record["state"], worker)
                return State.RUNNING
            _common.operator_move(record, move, now)
            self._log(uuid, now, move.event, move.to.value, worker)
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
                if (start is None or r["_seq"] < start)
                and _common.matches(r, query.state, query.queue, query.type, query.tag)
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
    copy: Record = json.loads(json.dumps(_common.public(record)))
    return copy


def _past_ttl(record: Record, now: float) -> bool:
    return record["expires_at"] is not None and record["expires_at"] <= now


def _detached(progress: Progress) -> Progress:
    """A copy of the progress sharing no objects with the caller (and checked to be JSON)."""
    doc = json.loads(json.dumps([progress.values, list(progress.events), list(progress.errors)]))
    return replace(progress, values=doc[0], events=doc[1], errors=doc[2])
