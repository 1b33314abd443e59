"""Record changes every backend makes the same way, kept in one place.

Backends that hold records as Python dicts (memory) apply these directly; SQL backends may
do the same work in SQL, but must match what these functions do.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from zerog.backends.base import Attempts, ListQuery, Move, Progress, Settlement
from zerog.record import Record, add_sample, clamp_completeness, error_entry
from zerog.states import FINAL_STATES, State

WORKER_LOST = "worker lost: its lease expired while the job was running"


def apply_progress(record: Record, progress: Progress) -> None:
    """Write a running job's progress into its record."""
    if progress.completeness is not None:
        record["completeness"] = clamp_completeness(progress.completeness)
    if progress.sample is not None:
        record["samples"] = add_sample(record.get("samples") or [], *progress.sample)
    if progress.message is not None:
        record["progress_message"] = progress.message
    if progress.values is not None:
        record["values"] = progress.values
    if progress.events:
        record["events"] = [*record["events"], *progress.events][-progress.max_events :]
    if progress.errors:
        record["errors"] = [*record["errors"], *progress.errors][-progress.max_errors :]


def apply_settlement(record: Record, settlement: Settlement, now: float) -> str:
    """Move a running record to where its settlement says; returns the new state."""
    if settlement.progress is not None:
        apply_progress(record, settlement.progress)
    state = settlement.state
    if settlement.queue is not None:  # a pipeline step: the job starts afresh in the next queue.
        record["queue"] = settlement.queue
        record["completeness"] = 0.0
        record["samples"] = []
        record["progress_message"] = None
    if state == State.WAITING and settlement.delay_seconds > 0:
        state = State.SCHEDULED
    record["state"] = state.value
    record["ready_at"] = now + max(0.0, settlement.delay_seconds)
    if state == State.COMPLETE:
        record["result"] = settlement.result
        record["result_code"] = settlement.result_code
        record["completeness"] = 1.0
    elif settlement.result_code is not None:
        record["result_code"] = settlement.result_code
    if settlement.error is not None:
        record["errors"] = [*record["errors"], settlement.error][-100:]
    if state in FINAL_STATES:
        record["finished_at"] = now
    record["attempts"] = _attempts_after(record["attempts"], settlement.attempts)
    clear_lease(record)
    record["updated_at"] = now
    return state.value


def _attempts_after(attempts: int, policy: Attempts) -> int:
    if policy == Attempts.RESET:
        return 0
    if policy == Attempts.REFUND:
        return max(0, attempts - 1)
    return attempts


def clear_lease(record: Record) -> None:
    """The job is no longer held by any worker."""
    record["worker"] = None
    record["lease_expires_at"] = None
    record["control"] = None


def start_run(record: Record, worker: str, now: float) -> None:
    """Make a ready record running under a new lease."""
    record["state"] = State.RUNNING.value
    record["attempts"] += 1
    record["lease_token"] += 1
    record["worker"] = worker
    record["lease_expires_at"] = now + record["ttr_seconds"]
    record["control"] = None
    record["updated_at"] = now
    if record.get("started_at") is None:
        record["started_at"] = now


def rescue(record: Record, now: float) -> tuple[str, str]:
    """Recover a running record whose lease expired; returns (new state, history event)."""
    clear_lease(record)
    record["updated_at"] = now
    if record["attempts"] > record["max_retries"]:
        record["state"] = State.FAILED.value
        record["finished_at"] = now
        record["errors"] = [*record["errors"], error_entry(now, None, WORKER_LOST)][-100:]
        return State.FAILED.value, "failed-worker-lost"
    record["state"] = State.WAITING.value
    record["ready_at"] = now
    return State.WAITING.value, "lease-expired"


def expire(record: Record, now: float) -> None:
    """A ready record whose TTL passed: it ends expired and never runs."""
    record["state"] = State.EXPIRED.value
    record["finished_at"] = now
    record["updated_at"] = now


def operator_move(record: Record, move: Move, now: float) -> None:
    """Apply an operator's move to a record that is not running."""
    assert move.to is not None, "a move of a running job is only a request"
    record["state"] = move.to.value
    record["updated_at"] = now
    if move.to == State.WAITING:
        record["ready_at"] = now
    if move.to in FINAL_STATES:
        record["finished_at"] = now
    if move.fresh_start:
        record["attempts"] = 0
        record["finished_at"] = None
        record["expires_at"] = None


def matches(record: Record, query: ListQuery) -> bool:
    """Whether a record passes a list filter."""
    return (
        (query.state is None or record["state"] == query.state)
        and (query.queue is None or record["queue"] == query.queue)
        and (query.type is None or record["type"] == query.type)
        and (query.tag is None or query.tag in record.get("tags", ()))
        and (query.tracked is None or bool(record.get("tracked")) == query.tracked)
        and (query.recurrence is None or record.get("recurrence") == query.recurrence)
        and (query.worker is None or record.get("worker") == query.worker)
    )


def public(record: Record) -> dict[str, Any]:
    """A copy of the record without internal keys."""
    return {k: v for k, v in record.items() if not k.startswith("_")}


# --- flow: dependencies, unique keys, debounce, limits ---------------------------------------

HOLDS_KEY = frozenset({State.WAITING, State.SCHEDULED, State.DEPENDS, State.RUNNING, State.PAUSED})
"""States in which a job holds its unique key (and a dependency is unfinished)."""

QUEUE_LIMIT = "queue:"
"""A queue's own limit is named ``queue:<queue>`` (see Backend.set_limit)."""

BLOCKING = frozenset({State.FAILED, State.CANCELLED, State.EXPIRED})
"""A dependency that ends in one of these blocks its dependents until it is retried."""

WAITS = frozenset({State.WAITING.value, State.SCHEDULED.value, State.DEPENDS.value})
"""States from which a job waits in ``depends`` when it is given unfinished dependencies."""


def limit_names(record: Record) -> list[str]:
    """The limits a job counts against while it runs: its queue's and its throttles."""
    return [QUEUE_LIMIT + record["queue"], *(record.get("throttles") or ())]


def wait_for(record: Record, pending: list[str], now: float) -> None:
    """Make a queued job wait for ``pending`` (unfinished dependencies), or be ready."""
    record["depends"] = pending
    if pending and record["state"] in WAITS:
        record["state"] = State.DEPENDS.value
    elif not pending and record["state"] == State.DEPENDS.value:
        record["state"] = State.WAITING.value
        record["ready_at"] = now
    record["updated_at"] = now


def dependency_done(dependent: Record, uuid: str, now: float) -> bool:
    """``uuid`` completed: drop it from the dependent's waits; True when that made the
    dependent ready (it was in ``depends`` and waits for nothing more)."""
    blocked = dict(dependent.get("blocked_by") or {})
    blocked.pop(uuid, None)
    dependent["blocked_by"] = blocked
    pending = [d for d in dependent.get("depends") or () if d != uuid]
    was_waiting = dependent["state"] == State.DEPENDS.value
    wait_for(dependent, pending, now)
    return was_waiting and not pending


def dependency_blocked(dependent: Record, uuid: str, state: str | None, now: float) -> None:
    """``uuid`` ended in ``state`` (failed, cancelled, expired), or was retried (None): note it
    in the dependent's ``blocked_by``."""
    blocked = dict(dependent.get("blocked_by") or {})
    if state is None:
        blocked.pop(uuid, None)
    else:
        blocked[uuid] = state
    dependent["blocked_by"] = blocked
    dependent["updated_at"] = now


def debounce_plan(
    entry: dict[str, Any] | None, now: float, seconds: float, always_delay: bool
) -> tuple[str, float, dict[str, Any]]:
    """deferrable's debounce, kept in the store: what to do with a push of a debounced call.

    ``entry`` is what the store keeps for the call's key: ``last_push`` (when a push last
    was, or will be, made available) and ``pending_until`` (a delayed push is pending until
    then). Returns (outcome, delay, the new entry):

    - a delayed push is pending: ``skipped`` (nothing stored);
    - ``always_delay``: ``delayed`` by the full ``seconds``;
    - no push in the last ``seconds``: ``put`` now;
    - else ``delayed`` until ``seconds`` after the last push (whole seconds, rounded up, as
      deferrable does).
    """
    entry = dict(entry or {})
    if entry.get("pending_until") is not None and entry["pending_until"] > now:
        return "skipped", 0.0, entry
    last = entry.get("last_push")
    if always_delay:
        delay = float(seconds)
    elif last is None or now - last > seconds:
        return "put", 0.0, {"last_push": now, "pending_until": None}
    else:
        delay = float(math.ceil(seconds - (now - last)))
    return "delayed", delay, {"last_push": now + delay, "pending_until": now + delay}


def would_cycle(uuid: str, on: str, depends_of: Callable[[str], list[str]]) -> bool:
    """Whether making ``uuid`` wait for ``on`` closes a loop: ``on`` already waits, directly
    or not, for ``uuid``. ``depends_of`` gives a job's unfinished dependencies."""
    seen: set[str] = set()
    todo = [on]
    while todo:
        current = todo.pop()
        if current == uuid:
            return True
        if current in seen:
            continue
        seen.add(current)
        todo.extend(depends_of(current))
    return False


RESCHEDULABLE = frozenset({State.WAITING.value, State.SCHEDULED.value})
"""States whose due time an operator may move (Change.delay_seconds)."""


def reschedule(record: Record, delay_seconds: float, now: float) -> str:
    """Make a waiting or scheduled job due ``delay_seconds`` from now; returns the history
    detail. The caller has checked the state (:data:`RESCHEDULABLE`)."""
    delay = max(0.0, float(delay_seconds))
    record["ready_at"] = now + delay
    record["state"] = State.SCHEDULED.value if delay > 0 else State.WAITING.value
    record["updated_at"] = now
    return f"due in {delay:g} s"
