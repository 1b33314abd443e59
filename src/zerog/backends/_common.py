"""Record changes every backend makes the same way, kept in one place.

Backends that hold records as Python dicts (memory) apply these directly; SQL backends may
do the same work in SQL, but must match what these functions do.
"""

from __future__ import annotations

from typing import Any

from zerog.backends.base import Attempts, Move, Progress, Settlement
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


def matches(
    record: Record, state: str | None, queue: str | None, type_: str | None, tag: str | None
) -> bool:
    """Whether a record passes a list filter."""
    return (
        (state is None or record["state"] == state)
        and (queue is None or record["queue"] == queue)
        and (type_ is None or record["type"] == type_)
        and (tag is None or tag in record.get("tags", ()))
    )


def public(record: Record) -> dict[str, Any]:
    """A copy of the record without internal keys."""
    return {k: v for k, v in record.items() if not k.startswith("_")}
