"""The job record: a plain JSON document that every backend stores and returns.

Backends never import user classes; they see only these documents. This module builds new
records, checks their sizes before anything reaches a backend, and derives what a reader wants
(the ETA) from what is stored (recent completeness samples).
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import socket
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from zerog import settings as defaults
from zerog.errors import NotSerializable, PayloadTooLarge
from zerog.model import Record, State

MAX_SAMPLES = 20  # completeness samples kept for the ETA.


def new_uuid() -> str:
    """A fresh job id: a UUID version 7 (RFC 9562), whose first 48 bits are the time in
    milliseconds. Ids made one after another sort together, so each new job lands at the end
    of a store's uuid index instead of on a random page of it: putting a job costs the same
    with a million stored as with none (``bench/scale.py``). The other 74 bits are random."""
    millis = time.time_ns() // 1_000_000
    bits = (millis & ((1 << 48) - 1)) << 80 | secrets.randbits(80)
    bits = (bits & ~(0xF << 76)) | (0x7 << 76)  # version 7
    bits = (bits & ~(0x3 << 62)) | (0x2 << 62)  # the RFC 4122 variant
    hexa = f"{bits:032x}"  # str(uuid.UUID(int=bits)), without the object (hot path).
    return f"{hexa[:8]}-{hexa[8:12]}-{hexa[12:16]}-{hexa[16:20]}-{hexa[20:]}"


def new_worker_id() -> str:
    """host-pid-random: unique per worker process, readable in history and logs."""
    return f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"


@dataclass(frozen=True, kw_only=True)
class JobSpec:
    """What a caller asks for when enqueuing; the facade turns it into a record."""

    type: str
    queue: str
    values: dict[str, Any] = field(default_factory=dict)
    uuid: str | None = None
    priority: int = defaults.DEFAULT_PRIORITY
    delay_seconds: float = 0.0
    ttr_seconds: float | None = None  # None: the store's heartbeat config.
    ttl_seconds: float | None = None
    stall_seconds: float | None = None  # None: the store's stall config (see zerog.stalls).
    stall_policy: str | None = None  # alert, cancel, retry, pause; None: the store's config.
    max_retries: int | None = None  # None: the store's settings (ZEROG_MAX_RETRIES, 5).
    tags: Sequence[str] = ()
    kind: str = "class"  # which face made it: class, function or qless.
    depends: Sequence[str] = ()  # uuids of jobs that must complete before this one runs.
    throttles: Sequence[str] = ()  # named limits this job counts against while it runs.
    fair_key: str | None = None  # a tenant: claims take a queue's keys in turn (zerog.flow).
    unique: bool | str | None = None  # True: one at a time per type + values; str: own key.
    on_duplicate: str = "merge"  # merge: return the waiting job's id; refuse: DuplicateJob.
    unique_window_seconds: float | None = None  # the key also holds this long after it ends.
    debounce: Debounce | None = None
    memory_limit_mb: float | None = None  # run in a process of its own, killed past this.


@dataclass(frozen=True, kw_only=True)
class Debounce:
    """deferrable's debounce: at most one push per ``seconds`` for one key (see
    :func:`zerog.flow.debounce_plan`)."""

    key: str
    seconds: float
    always_delay: bool = False


def new_record(spec: JobSpec, now: float) -> Record:
    """The record of a job about to be put; ``state`` says waiting or scheduled (the backend
    makes it ``depends`` when it has unfinished dependencies). Keys starting with ``_`` are
    instructions to the put (duplicate handling, debounce), never stored."""
    delay = float(spec.delay_seconds)
    record = _fresh(spec, now, delay)
    if record["unique_key"] is not None:
        record["_on_duplicate"] = spec.on_duplicate
        if spec.unique_window_seconds:  # stored only when set: most records never have one.
            record["unique_window_seconds"] = float(spec.unique_window_seconds)
    if spec.stall_policy is not None:  # stored only when set (zerog.stalls).
        record["stall_policy"] = spec.stall_policy
    if spec.memory_limit_mb is not None:  # stored only when set (zerog.worker.isolate).
        record["memory_limit_mb"] = float(spec.memory_limit_mb)
    if spec.debounce is not None:
        record["_debounce"] = {
            "key": spec.debounce.key,
            "seconds": float(spec.debounce.seconds),
            "always_delay": bool(spec.debounce.always_delay),
        }
    return record


def _fresh(spec: JobSpec, now: float, delay: float) -> Record:
    return {
        "uuid": spec.uuid or new_uuid(),
        "type": spec.type,
        "kind": spec.kind,
        "queue": spec.queue,
        "state": State.SCHEDULED.value if delay > 0 else State.WAITING.value,
        "priority": int(spec.priority),
        "values": spec.values,
        "tags": list(dict.fromkeys(spec.tags)),
        "attempts": 0,
        "max_retries": int(
            defaults.DEFAULT_MAX_RETRIES if spec.max_retries is None else spec.max_retries
        ),
        "ttr_seconds": float(
            defaults.DEFAULT_TTR_SECONDS if spec.ttr_seconds is None else spec.ttr_seconds
        ),
        "ttl_seconds": spec.ttl_seconds,
        "stall_seconds": spec.stall_seconds,
        "expires_at": None if spec.ttl_seconds is None else now + float(spec.ttl_seconds),
        "ready_at": now + delay,
        "created_at": now,
        "updated_at": now,
        "started_at": None,
        "finished_at": None,
        "completeness": 0.0,
        "progress_message": None,
        "samples": [],
        "events": [],
        "errors": [],
        "result": None,
        "result_code": None,
        "worker": None,
        "lease_token": 0,
        "lease_expires_at": None,
        "control": None,
        "depends": list(dict.fromkeys(spec.depends)),
        "dependents": [],
        "blocked_by": {},
        "throttles": list(dict.fromkeys(spec.throttles)),
        "fair_key": spec.fair_key,
        "unique_key": unique_key_of(spec),
        "tracked": False,
        "recurrence": None,
    }


def unique_key_of(spec: JobSpec) -> str | None:
    """The key a unique job is known by: its own, or its type and values (hashed)."""
    if spec.unique is None or spec.unique is False:
        return None
    if isinstance(spec.unique, str):
        return spec.unique
    canonical = json.dumps(spec.values, sort_keys=True, separators=(",", ":"))
    digest = hashlib.sha256(canonical.encode()).hexdigest()[:32]
    return f"{spec.type}:{digest}"


def to_json(value: Any, what: str, limit: int | None = None) -> str:
    """Encode as compact JSON; refuse what is not JSON or is over ``limit`` bytes."""
    try:
        text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise NotSerializable(f"{what} cannot be stored as JSON: {exc}") from exc
    if limit is not None:
        size = len(text.encode())
        if size > limit:
            raise PayloadTooLarge(what, size, limit)
    return text


def cut(text: str, limit: int, keep_end: bool = False) -> str:
    """Shorten ``text`` to ``limit`` characters, saying so; tracebacks keep their end."""
    text = str(text)
    if len(text) <= limit:
        return text
    marker = f"…[{len(text) - limit} characters cut]…"
    return marker + text[-limit:] if keep_end else text[:limit] + marker


def event_entry(now: float, msg: str) -> dict[str, Any]:
    """A log line as the seed shows it: ``{timeStamp, msg}``."""
    return {"timeStamp": now, "msg": cut(msg, defaults.MAX_MESSAGE_CHARS)}


def error_entry(
    now: float, code: int | None, msg: str, traceback: str | None = None
) -> dict[str, Any]:
    """An error as the seed shows it: ``{timeStamp, errorCode, msg}`` (plus a traceback)."""
    entry: dict[str, Any] = {
        "timeStamp": now,
        "errorCode": code,
        "msg": cut(msg, defaults.MAX_MESSAGE_CHARS),
    }
    if traceback:
        entry["traceback"] = cut(traceback, defaults.MAX_TRACEBACK_CHARS, keep_end=True)
    return entry


def add_sample(samples: list[list[float]], now: float, completeness: float) -> list[list[float]]:
    """Keep the recent ``[time, completeness]`` samples the ETA is computed from."""
    if samples and samples[-1][1] == completeness:
        return samples
    return [*samples, [now, completeness]][-MAX_SAMPLES:]


def eta_seconds(record: Record, now: float) -> float | None:
    """Seconds left at the recent rate of progress, or None when it cannot be told."""
    if record.get("state") != State.RUNNING.value:
        return None
    samples = record.get("samples") or []
    if len(samples) < 2:
        return None
    (t0, c0), (t1, c1) = samples[0], samples[-1]
    if c1 <= c0 or t1 <= t0:
        return None
    rate = (c1 - c0) / (t1 - t0)
    left = max(0.0, 1.0 - c1) / rate - max(0.0, now - t1)
    return float(max(0.0, left))


def clamp_completeness(value: float) -> float:
    """Completeness lives in 0..1."""
    return min(1.0, max(0.0, float(value)))


def public(record: Record) -> Record:
    """A copy of the record without its internal keys (those starting with ``_``)."""
    return {k: v for k, v in record.items() if not k.startswith("_")}
