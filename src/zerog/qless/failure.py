"""qless failures (a group and a message) in zerog's error entries, and back.

qless groups failures by a short phrase (``underpants-ValueError``, ``failed-retries-q``).
zerog keeps one error list per job, shared by every face, so a qless failure is stored as an
ordinary error entry whose message starts with its group: ``"<group>: <message>"``. The
dashboard, the CLI and the HTTP API then show the group too, and this module reads it back.
"""

from __future__ import annotations

from typing import Any

from zerog.model import Record
from zerog.record import cut, error_entry
from zerog.settings import MAX_MESSAGE_CHARS

SEPARATOR = ": "


def failure_entry(now: float, group: str, message: str) -> dict[str, Any]:
    """The error entry of a qless failure."""
    return error_entry(now, None, failure_message(group, message))


def failure_message(group: str, message: str) -> str:
    """``group: message``, shortened from the front when too long: a traceback's end (where
    the error is) matters more than its start."""
    room = MAX_MESSAGE_CHARS - len(group) - len(SEPARATOR) - 64  # 64: room for the cut marker.
    return f"{group}{SEPARATOR}{cut(str(message), max(room, 64), keep_end=True)}"


def exhausted(queue: str) -> tuple[str, str]:
    """qless's group and message of a job that used up its retries."""
    return f"failed-retries-{queue}", f"Job exhausted retries in queue {queue!r}"


def failure_of(record: Record) -> dict[str, Any]:
    """qless's ``job.failure`` of a failed job (group, message, when, worker); {} otherwise."""
    errors = record.get("errors") or []
    if record.get("state") != "failed" or not errors:
        return {}
    last = errors[-1]
    group, message = split(str(last.get("msg") or ""))
    return {
        "group": group,
        "message": message,
        "when": last.get("timeStamp"),
        "worker": record.get("worker") or "",
    }


def split(text: str) -> tuple[str, str]:
    """The group and message of a stored failure (an error written by another part of zerog,
    with no group, is its own group)."""
    group, found, message = text.partition(SEPARATOR)
    if not found or "\n" in group:
        return text.splitlines()[0] if text else "failed", text
    return group, message
