"""The one state machine: which states a job has, which moves an operator may make, and
what each transition writes into a record.

Every backend applies these functions (memory to its dicts, the SQL engine to decoded rows,
beanstalk's store likewise), so a job changes the same way on each. The vocabulary of the
contract they serve is in :mod:`zerog.model`; what spans several jobs (dependencies, unique
keys, debounce, limits) is in :mod:`zerog.flow`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from zerog.errors import InvalidTransition
from zerog.model import FINAL_STATES, Attempts, Progress, Record, Settlement, State
from zerog.record import add_sample, clamp_completeness, error_entry


@dataclass(frozen=True, slots=True)
class Move:
    """One allowed operator action: the state it turns a job into, and its history event."""

    to: State | None  # None: the job is running; the action is only requested of it.
    event: str
    fresh_start: bool = False  # a retry: full retries again, no finish time, no TTL deadline.
    expire_lease: bool = False  # a timeout: the lease ends now; the rescue takes the job.


OPERATOR_ACTIONS: dict[str, dict[State, Move]] = {
    "cancel": {
        State.WAITING: Move(State.CANCELLED, "cancelled"),
        State.SCHEDULED: Move(State.CANCELLED, "cancelled"),
        State.DEPENDS: Move(State.CANCELLED, "cancelled"),
        State.PAUSED: Move(State.CANCELLED, "cancelled"),
        State.RUNNING: Move(None, "cancel-requested"),
    },
    "pause": {
        State.WAITING: Move(State.PAUSED, "paused"),
        State.SCHEDULED: Move(State.PAUSED, "paused"),
        State.RUNNING: Move(None, "pause-requested"),
    },
    "resume": {State.PAUSED: Move(State.WAITING, "resumed")},
    "timeout": {State.RUNNING: Move(None, "timed-out", expire_lease=True)},
    "retry": {
        State.FAILED: Move(State.WAITING, "retried-by-operator", fresh_start=True),
        State.CANCELLED: Move(State.WAITING, "retried-by-operator", fresh_start=True),
        State.EXPIRED: Move(State.WAITING, "retried-by-operator", fresh_start=True),
    },
}
"""Which operator action is allowed from which state; every backend applies this one table.

A retry (beanstalkd's kick) is a fresh start: the attempt count is reset, so the job gets its
full retries again, and a TTL deadline is dropped (an operator asked for this run).
Cancel and pause of a running job set its ``control``; the worker learns it at its next
heartbeat and settles the job itself. A timeout (qless's) sets a running job's lease to expire
now: the next :meth:`Backend.rescue_expired` takes the job back (or fails it), after which the
worker's writes are refused; a heartbeat that comes first renews the lease.
"""


def plan_action(uuid: str, state: str, action: str) -> Move:
    """The move an operator action makes from ``state``, or InvalidTransition."""
    moves = OPERATOR_ACTIONS.get(action)
    if moves is None:
        raise ValueError(f"unknown action {action!r}; known: {', '.join(OPERATOR_ACTIONS)}")
    move = moves.get(State(state))
    if move is None:
        raise InvalidTransition(uuid, state, action)
    return move


def history_entry(
    at: float, event: str, state: str, worker: str | None = None, detail: str | None = None
) -> dict[str, Any]:
    """One line of a job's history: when, what happened, the state after, and who did it."""
    return {"at": at, "event": event, "state": state, "worker": worker, "detail": detail}


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
    if settlement.usage is not None:  # the figures of the attempt that ends (the latest).
        record["usage"] = settlement.usage
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
