"""The memory backend's state and the steps its parts share."""

from __future__ import annotations

import heapq
import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

from zerog import flow
from zerog.backends.contract import FullBackend
from zerog.errors import (
    DuplicateJob,
    UnknownDependency,
)
from zerog.lifecycle import history_entry
from zerog.model import (
    FINAL_STATES,
    QUEUED_STATES,
    Placed,
    Progress,
    Record,
    State,
)
from zerog.record import public as record_public

READY = (State.WAITING.value, State.SCHEDULED.value)
FINAL = frozenset(s.value for s in FINAL_STATES)
QUEUED = frozenset(s.value for s in QUEUED_STATES)
PRUNABLE = (State.COMPLETE.value, State.CANCELLED.value, State.EXPIRED.value)


class MemoryState(FullBackend):
    """What every part of the memory backend shares: every job in a dict, a heap per queue
    of (priority, seq, uuid) for claims, one lock for atomic steps, and the effects a state
    change has on other jobs (unique keys, dependents)."""

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
        self._fair_queues: set[str] = set()  # queues some job with a fair_key entered.
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
        if record.get(flow.FAIR_KEY):
            self._fair_queues.add(record["queue"])
        heapq.heappush(
            self._heaps.setdefault(record["queue"], []),
            (record["priority"], record["_seq"], record["uuid"]),
        )

    def _put(self, record: Record, now: float) -> Placed:
        uuid = record["uuid"]
        if uuid in self._jobs:
            raise ValueError(f"a job with id {uuid!r} exists")
        pending, blocked = self._dependencies(list(record.get("depends") or ()))
        if flow.counts_any_end(record):  # a batch's callback: ended members are done.
            pending, blocked = [d for d in pending if d not in blocked], {}
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
        if uuid is not None and flow.holds_key(self._jobs.get(uuid, {}), self.clock()):
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
        key = record.get("unique_key") or ""
        windowed = bool(record.get("unique_window_seconds"))  # _holder weighs the window.
        if after in FINAL and self._uniques.get(key) == uuid and not windowed:
            del self._uniques[key]
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
                event = "batch-done" if flow.counts_any_end(dependent) else "dependencies-met"
                self._log(uuid, now, event, dependent["state"], None, record["uuid"])
                self._enqueue(dependent)

    def _block_dependents(self, record: Record, state: str | None, now: float) -> None:
        for uuid in record.get("dependents") or ():
            dependent = self._jobs.get(uuid)
            if dependent is None or dependent["state"] != State.DEPENDS.value:
                continue
            if flow.counts_any_end(dependent):  # a batch's callback: an end is an end.
                if state is not None and flow.dependency_done(dependent, record["uuid"], now):
                    self._log(uuid, now, "batch-done", dependent["state"], None, record["uuid"])
                    self._enqueue(dependent)
                continue
            flow.dependency_blocked(dependent, record["uuid"], state, now)
            event = f"dependency-{state}" if state else "dependency-retried"
            self._log(uuid, now, event, dependent["state"], None, record["uuid"])


def copy_out(record: Record) -> Record:
    copy: Record = json.loads(json.dumps(record_public(record)))
    return copy


def past_ttl(record: Record, now: float) -> bool:
    return record["expires_at"] is not None and record["expires_at"] <= now


def detached(progress: Progress) -> Progress:
    """A copy of the progress sharing no objects with the caller (and checked to be JSON)."""
    doc = json.loads(json.dumps([progress.values, list(progress.events), list(progress.errors)]))
    return replace(progress, values=doc[0], events=doc[1], errors=doc[2])
