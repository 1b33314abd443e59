"""Recurring jobs: a stored recipe that spawns a job every interval, or on a cron schedule.

A recurrence is a plain JSON document that every backend stores as given. Backends spawn its
jobs in the step that reserves from its queue (:func:`spawn`), so however many workers
reserve at once, each tick spawns exactly one job. A worker that was away for many ticks
spawns the missed ones at once, at most ``backlog`` of them (0: all, as qless does).

Spawned jobs get the id ``<recurrence id>-<n>`` (n counts from 1) and the key
``recurrence``, so a reader can tell which recurrence spawned them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from zerog import settings as defaults
from zerog.errors import InvalidOptions
from zerog.model import Record
from zerog.record import JobSpec, new_record, new_uuid

MAX_SPAWN = 1000  # one reserve spawns at most this many jobs of one recurrence.
UPDATABLE = (
    "values",
    "priority",
    "tags",
    "max_retries",
    "ttr_seconds",
    "interval_seconds",
    "cron",
    "backlog",
    "queue",
    "type",
    "throttles",
)


@dataclass(frozen=True, kw_only=True)
class RecurSpec:
    """What a caller asks for: a job recipe and its schedule (an interval or a cron line)."""

    type: str
    queue: str
    values: dict[str, Any] = field(default_factory=dict)
    interval_seconds: float | None = None
    cron: str | None = None
    offset_seconds: float = 0.0
    id: str | None = None
    priority: int = defaults.DEFAULT_PRIORITY
    tags: Sequence[str] = ()
    max_retries: int = defaults.DEFAULT_MAX_RETRIES
    ttr_seconds: float = defaults.DEFAULT_TTR_SECONDS
    backlog: int = 0
    kind: str = "class"
    throttles: Sequence[str] = ()


def new_recurrence(spec: RecurSpec, now: float) -> dict[str, Any]:
    """The stored document of a recurrence; its first job is due at now + offset (for a cron
    schedule: the first time the schedule names after that)."""
    check(spec)
    doc: dict[str, Any] = {
        "id": spec.id or new_uuid(),
        "type": spec.type,
        "kind": spec.kind,
        "queue": spec.queue,
        "values": spec.values,
        "priority": int(spec.priority),
        "tags": list(dict.fromkeys(spec.tags)),
        "throttles": list(dict.fromkeys(spec.throttles)),
        "max_retries": int(spec.max_retries),
        "ttr_seconds": float(spec.ttr_seconds),
        "interval_seconds": None if spec.interval_seconds is None else float(spec.interval_seconds),
        "cron": spec.cron,
        "backlog": int(spec.backlog),
        "count": 0,
        "created_at": now,
        "next_at": now + float(spec.offset_seconds),
    }
    if spec.cron is not None:
        doc["next_at"] = cron_next(spec.cron, now + float(spec.offset_seconds), inclusive=True)
    return doc


def check(spec: RecurSpec) -> None:
    """Refuse a schedule that could never run, with a message naming what is wrong."""
    problems = []
    if (spec.interval_seconds is None) == (spec.cron is None):
        problems.append("give exactly one of interval= (seconds) and cron= (a cron line)")
    if spec.interval_seconds is not None and not spec.interval_seconds > 0:
        problems.append(f"interval must be > 0 seconds, not {spec.interval_seconds!r}")
    if spec.cron is not None:
        cron_next(spec.cron, 0.0)  # raises InvalidOptions naming the line.
    if spec.offset_seconds < 0:
        problems.append(f"offset must be >= 0 seconds, not {spec.offset_seconds!r}")
    if spec.backlog < 0:
        problems.append(f"backlog must be >= 0 (0: spawn every missed job), not {spec.backlog!r}")
    if not spec.type or not spec.queue:
        problems.append("a recurrence needs a job type and a queue")
    if problems:
        raise InvalidOptions("; ".join(problems))


def cron_next(line: str, after: float, inclusive: bool = False) -> float:
    """The first time the cron line names after ``after`` (at ``after`` itself too when
    ``inclusive``), in UTC."""
    try:
        from croniter import croniter
    except ImportError as exc:  # pragma: no cover - the extra is installed in CI.
        raise InvalidOptions("cron schedules need croniter: pip install 'zerog[cron]'") from exc
    start = datetime.fromtimestamp(after - (1 if inclusive else 0), tz=UTC)
    try:
        if not croniter.is_valid(line):
            raise ValueError("not a cron line")
        return float(croniter(line, start).get_next(float))
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidOptions(f"cron expression {line!r} does not parse: {exc}") from exc


def spawn(recurrence: dict[str, Any], now: float) -> list[Record]:
    """The jobs a recurrence owes at ``now`` (none when it is not due), and advance it: its
    ``count`` and ``next_at`` change in place. The caller stores both in one step."""
    due = _due_times(recurrence, now)
    if not due:
        return []
    backlog = recurrence["backlog"]
    skipped = len(due) - backlog if backlog and len(due) > backlog else 0
    jobs = []
    for _ in due[skipped:]:
        recurrence["count"] += 1
        jobs.append(_job(recurrence, now))
    return jobs


def _due_times(recurrence: dict[str, Any], now: float) -> list[float]:
    """The ticks at or before ``now`` not spawned yet; moves ``next_at`` past ``now``."""
    times: list[float] = []
    next_at = recurrence["next_at"]
    interval = recurrence["interval_seconds"]
    if next_at > now:
        return times
    if interval is not None:
        missed = math.floor((now - next_at) / interval) + 1
        first = max(0, missed - MAX_SPAWN)
        times = [next_at + interval * i for i in range(first, missed)]
        recurrence["next_at"] = next_at + interval * missed
        return times
    while next_at <= now and len(times) < MAX_SPAWN:
        times.append(next_at)
        next_at = cron_next(recurrence["cron"], next_at)
    if next_at <= now:
        next_at = cron_next(recurrence["cron"], now)
    recurrence["next_at"] = next_at
    return times


def _job(recurrence: dict[str, Any], now: float) -> Record:
    spec = JobSpec(
        type=recurrence["type"],
        queue=recurrence["queue"],
        values=recurrence["values"],
        uuid=f"{recurrence['id']}-{recurrence['count']}",
        priority=recurrence["priority"],
        tags=recurrence["tags"],
        max_retries=recurrence["max_retries"],
        ttr_seconds=recurrence["ttr_seconds"],
        kind=recurrence["kind"],
        throttles=recurrence.get("throttles") or (),
    )
    record = new_record(spec, now)
    record["recurrence"] = recurrence["id"]
    return record


def apply_update(recurrence: dict[str, Any], changes: dict[str, Any], now: float) -> None:
    """Change the keys of :data:`UPDATABLE` in place; a new schedule counts from now."""
    unknown = sorted(set(changes) - set(UPDATABLE))
    if unknown:
        raise InvalidOptions(
            f"cannot change {', '.join(unknown)} of a recurrence; known: {', '.join(UPDATABLE)}"
        )
    merged = {**recurrence, **changes}
    if "interval_seconds" in changes and changes["interval_seconds"] is not None:
        merged["cron"] = None
    if "cron" in changes and changes["cron"] is not None:
        merged["interval_seconds"] = None
    check(_spec_of(merged))
    if "interval_seconds" in changes or "cron" in changes:
        interval = merged["interval_seconds"]
        merged["next_at"] = now + interval if interval else cron_next(merged["cron"], now)
    recurrence.update(merged)


def _spec_of(doc: dict[str, Any]) -> RecurSpec:
    return RecurSpec(
        type=doc["type"],
        queue=doc["queue"],
        values=doc["values"],
        interval_seconds=doc["interval_seconds"],
        cron=doc["cron"],
        priority=doc["priority"],
        backlog=doc["backlog"],
    )
