"""What crosses to the scripts and back: records as (field, JSON text) pairs, settlements and
progress as small JSON documents, and the replies.

A job is stored as a hash whose fields are the record's keys, each holding its value's JSON
text (see ``lua/lib/core.lua`` for why the scripts never re-encode a whole document). The
lists that grow while a job runs (events, errors, progress samples) and its history are Redis
lists beside the hash, so that appending one line never rewrites the others.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from zerog.errors import (
    BackendError,
    DependencyCycle,
    DuplicateJob,
    InboxFull,
    InvalidOptions,
    InvalidTransition,
    JobNotFound,
    NotRunning,
    ReservationLost,
    UnknownDependency,
)
from zerog.lifecycle import OPERATOR_ACTIONS
from zerog.model import Change, Lease, ListQuery, Progress, Record, Settlement, State

LISTS = ("events", "errors", "samples")  # kept as Redis lists beside the hash.
DEFAULTS: dict[str, Any] = {
    **dict.fromkeys(("attempts", "lease_token"), 0),
    "completeness": 0.0,
    **{key: [] for key in ("tags", "depends", "dependents", "throttles")},
    "blocked_by": {},
    "tracked": False,
    **dict.fromkeys(
        (
            "ttl_seconds", "stall_seconds", "expires_at", "started_at", "finished_at",
            "progress_message", "result", "result_code", "worker", "lease_expires_at",
            "control", "unique_key", "recurrence", "fair_key",
        ),
        None,
    ),
}  # fmt: skip
"""Keys a new record mostly holds at these values: not stored then (a fresh job's hash is
half as long), and read back as these (``DEFAULT_TEXT`` in ``lua/lib/jobs.lua``)."""
_APART = frozenset((*LISTS, "history"))  # keys of a record the hash does not hold.
_NONE = object()  # no default.
MAX_PRIORITY = 2**53  # a priority is a sorted set's score: a double holds integers this big.

_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode
_string = json.encoder.encode_basestring


def text(value: Any) -> str:
    """A value's JSON text, as ``json.dumps`` writes it compactly (the common scalars by a
    shorter path: a put encodes some forty of them)."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    kind = type(value)
    if kind is str:
        return str(_string(value))
    if kind is int:
        return str(value)
    return str(_encode(value))


def record_args(record: Record) -> tuple[str, str]:
    """A new record as the put script reads it (see ``lua/put.lua``): its fields as
    ``field NUL text NUL ...`` (JSON text never holds a raw NUL), and the rest as JSON (its
    lists, what to do with a duplicate, its debounce) or ''."""
    priority = record.get("priority")
    if isinstance(priority, int) and abs(priority) > MAX_PRIORITY:
        raise InvalidOptions(f"priority must be within ±2**53 on Redis, not {priority!r}")
    parts: list[str] = []
    for key, value in record.items():
        if key in _APART or key[:1] == "_":
            continue
        default = DEFAULTS.get(key, _NONE)
        if default is not _NONE and type(value) is type(default) and value == default:
            continue  # a default is not stored (see DEFAULTS).
        parts += (key, text(value))
    parts.append("")  # the last text's NUL.
    fields = "\0".join(parts)
    rest: dict[str, Any] = {}
    for name, short in zip(LISTS, ("ev", "er", "sm"), strict=True):
        items = record.get(name)
        if items:
            rest[short] = [text(item) for item in items]
    if record.get("unique_key") and record.get("_on_duplicate") == "refuse":
        rest["dup"] = "refuse"
    plan = record.get("_debounce")
    if plan is not None:
        rest["deb"] = {
            "key": plan["key"],
            "seconds": float(plan["seconds"]),
            "always_delay": bool(plan["always_delay"]),
        }
    return fields, (str(_encode(rest)) if rest else "")


def progress_doc(progress: Progress) -> dict[str, Any]:
    """A progress report for ``lua/lib/progress.lua``: only what is set."""
    doc: dict[str, Any] = {}
    if progress.completeness is not None:
        doc["c"] = float(progress.completeness)
    if progress.message is not None:
        doc["m"] = text(progress.message)
    if progress.sample is not None:
        at, completeness = progress.sample
        doc["smp"] = _encode([at, completeness])
        doc["smc"] = float(completeness)
    if progress.values is not None:
        doc["v"] = _encode(progress.values)
    if progress.events:
        doc["ev"] = [_encode(e) for e in progress.events]
        doc["me"] = int(progress.max_events)
    if progress.errors:
        doc["er"] = [_encode(e) for e in progress.errors]
        doc["mr"] = int(progress.max_errors)
    return doc


def settlement_arg(lease: Lease, settlement: Settlement) -> str:
    """One settlement for ``settle_batch.lua`` (its header lists the keys). Raises
    NotSerializable-like errors (TypeError, ValueError) before anything is sent."""
    doc: dict[str, Any] = {
        "u": lease.uuid,
        "t": lease.token,
        "w": lease.worker,
        "s": settlement.state.value,
        "e": settlement.event,
        "d": float(settlement.delay_seconds),
        "a": settlement.attempts.value,
    }
    if settlement.state == State.COMPLETE:
        doc["r"] = text(settlement.result)
    if settlement.result_code is not None:
        doc["rc"] = int(settlement.result_code)
    if settlement.error is not None:
        doc["err"] = _encode(settlement.error)
    if settlement.usage is not None:
        doc["use"] = _encode(settlement.usage)
    detail = settlement.error.get("msg") if settlement.error else settlement.queue
    if detail is not None:
        doc["det"] = str(detail)
    if settlement.queue is not None:
        doc["q"] = settlement.queue
        doc["dep"] = list(settlement.depends)
    if settlement.progress is not None:
        progress = progress_doc(settlement.progress)
        if progress:
            doc["p"] = progress
    return str(_encode(doc))


def moves_arg(action: str) -> str:
    """The operator moves of an action (lifecycle.OPERATOR_ACTIONS) for ``lib/operate.lua``."""
    moves = OPERATOR_ACTIONS.get(action)
    if moves is None:
        raise ValueError(f"unknown action {action!r}; known: {', '.join(OPERATOR_ACTIONS)}")
    return str(
        _encode(
            {
                state.value: [
                    None if m.to is None else m.to.value,
                    m.event,
                    m.fresh_start,
                    m.expire_lease,
                ]
                for state, m in moves.items()
            }
        )
    )


def change_arg(change: Change) -> str:
    """A Change for ``alter.lua``: fields left at their default are left out."""
    doc: dict[str, Any] = {}
    for name in ("priority", "queue", "delay_seconds", "tracked"):
        value = getattr(change, name)
        if value is not None:
            doc[name] = value
    if change.priority is not None and abs(change.priority) > MAX_PRIORITY:
        raise InvalidOptions(f"priority must be within ±2**53 on Redis, not {change.priority!r}")
    for name in ("add_tags", "remove_tags", "depend", "undepend"):
        values = list(getattr(change, name))
        if values:
            doc[name] = values
    if change.undepend_all:
        doc["undepend_all"] = True
    return str(_encode(doc))


def query_arg(query: ListQuery) -> str:
    """A list query for ``list.lua``."""
    doc: dict[str, Any] = {"limit": int(query.limit)}
    for name in ("state", "queue", "type", "tag", "tracked", "recurrence", "worker"):
        value = getattr(query, name)
        if value is not None:
            doc[name] = value
    if query.cursor:
        try:
            doc["cursor"] = int(query.cursor)
        except ValueError as exc:
            raise ValueError(f"not a cursor of this store: {query.cursor!r}") from exc
    return str(_encode(doc))


def doc_args(doc: dict[str, Any]) -> list[str]:
    """A document (a recurrence) as n, then (field, JSON text) pairs."""
    args = [str(len(doc))]
    for key, value in doc.items():
        args += (key, text(value))
    return args


def worker_text(worker: str | None) -> str:
    """Who acts, as the scripts' history wants it."""
    return text(worker)


# --- replies ---------------------------------------------------------------------------------


def s(value: bytes | str) -> str:
    """A reply's string."""
    return value.decode() if isinstance(value, bytes) else value


def loads(value: bytes | str) -> Any:
    """A reply's JSON text, decoded."""
    return json.loads(value)


def checked(reply: Sequence[Any], uuid: str = "", token: int = 0) -> Sequence[Any]:
    """The reply of a script, or the error it names raised (see ``refuse`` in core.lua)."""
    if reply and s(reply[0]) == "ok":
        return reply
    kind, args = s(reply[1]), [s(a) for a in reply[2:]]
    raise _error(kind, args, uuid, token)


def _error(kind: str, args: list[str], uuid: str, token: int) -> Exception:
    if kind == "exists":
        return ValueError(f"a job with id {args[0]!r} exists")
    if kind == "unknown":
        return UnknownDependency(args)
    if kind == "duplicate":
        return DuplicateJob(args[0], args[1])
    if kind == "notfound":
        return JobNotFound(args[0])
    if kind == "transition":
        return InvalidTransition(uuid, args[0], args[1])
    if kind == "cycle":
        return DependencyCycle(args[0], args[1])
    if kind == "lost":
        return ReservationLost(uuid, token)
    if kind == "notrunning":
        return NotRunning(uuid, args[0])
    if kind == "full":
        return InboxFull(uuid, int(args[0]))
    if kind == "cron":
        return InvalidOptions(f"this cron line cannot be followed on Redis: {args[0]}")
    return BackendError(f"the Redis scripts refused: {kind} {args}")


def records(values: Iterable[bytes | str]) -> list[Record]:
    """Records from their JSON texts."""
    return [json.loads(v) for v in values]
