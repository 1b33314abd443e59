"""What spans several jobs, decided the same way by every backend: dependencies, unique
keys, debounce and the names of concurrency limits.

Backends that hold records as Python dicts apply these directly; the SQL engine does the same
work around its statements, and must match what these functions do.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from zerog.model import Record, State

HOLDS_KEY = frozenset({State.WAITING, State.SCHEDULED, State.DEPENDS, State.RUNNING, State.PAUSED})
"""States in which a job holds its unique key (and a dependency is unfinished)."""


def holds_key(record: Record, now: float) -> bool:
    """Whether a job holds its unique key at ``now``: while it is not finished, and for its
    ``unique_window_seconds`` after it finished (an idempotency window: a put of the same key
    in that time is merged into it, or refused, as while it ran)."""
    if record.get("state") in HOLDS_KEY:
        return True
    window, finished = record.get("unique_window_seconds"), record.get("finished_at")
    if not window or finished is None:
        return False
    return now < float(finished) + float(window)


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


BATCH_MEMBERS = "batch_members"
"""A batch's callback job lists its members under this key (its uuid is the batch's id)."""
BATCH_ID = "batch_id"
"""Each member of a batch names its callback job (the batch's id) under this key."""


def counts_any_end(dependent: Record) -> bool:
    """Whether ``dependent`` is a batch's callback: it waits for its members to *end* in any
    final state (complete, failed, cancelled, expired), not to complete. A member's first
    final state drops it from the callback's ``depends`` like a completion would; dropping an
    id from a set is idempotent, so no member is ever counted twice (a retried member that
    fails again finds itself gone already)."""
    return bool(dependent.get(BATCH_MEMBERS))


def rate_room(starts: list[float], maximum: int, per: float, now: float) -> bool:
    """Whether a job counting against a rate limit of ``maximum`` starts per ``per`` seconds
    may start at ``now``, given the name's logged start times: fewer than ``maximum`` of them
    after ``now - per``. Later starts count too (a start logged by a transaction that read
    the clock after this one), so no window of ``per`` seconds ever holds more than
    ``maximum`` starts whatever order the starts were logged in."""
    return sum(1 for at in starts if at > now - per) < maximum


def rate_free_at(starts: list[float], maximum: int, per: float) -> float | None:
    """When a full rate window lets the next job start: the ``maximum``-th latest start
    plus ``per``; None when time alone never frees it (a maximum of 0)."""
    ordered = sorted(starts, reverse=True)
    return ordered[maximum - 1] + per if maximum and len(ordered) >= maximum else None


FAIR_KEY = "fair_key"
"""A job's fairness key (a tenant): claims of a queue take its keys in turn."""


def fair_key_of(record: Record) -> str:
    """The fairness key a job is served under; the jobs without one share the key ``""``."""
    return str(record.get(FAIR_KEY) or "")
