"""Failed jobs grouped by their error, and actions on a whole group done by the server.

``GET /api/failed`` reads every failed job once (up to :data:`MAX_SCAN`) and groups them by
job type and last error: its code and the first line of its message, with the parts that
differ from job to job (numbers, hex ids) written as ``#``, so that "row 17 is bad" and "row
912 is bad" are one problem, as Sentry and Sidekiq group them. Each group has a stable id (a
hash of that key); ``POST /api/failed/{group}/retry`` and ``.../delete`` find the group's jobs
again on the server and act on each, so an operator's "retry all 4,000" is one request, not
4,000 from a browser tab, and acts on the jobs failed *now* (a job retried meanwhile is left
alone).
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Iterator
from typing import Any

from zerog.errors import DuplicateJob, InvalidTransition, JobNotFound
from zerog.http._base import ApiError, ApiHandler
from zerog.model import Record, State
from zerog.store import MAX_PAGE, Store

MAX_SCAN = 50_000  # failed jobs read per request; past that the answer says it is partial.
MAX_MESSAGE_CHARS = 300  # of the first line of an error's message, in a group's key.
MAX_TRACEBACK_CHARS = 8_000  # the example traceback a group shows.
EXAMPLES = 5  # job ids shown per group.
MAX_REFUSALS = 20  # refusals named in an action's answer (all are counted).
GROUP_ACTIONS = ("retry", "delete")
VARYING = re.compile(r"0x[0-9a-fA-F]+|[0-9a-fA-F]{8,}(?:-[0-9a-fA-F]{4,})*|\d+")


def error_key(record: Record) -> tuple[str, int | None, str]:
    """What groups a failed job: its type, its last error's code and message's shape."""
    errors = record.get("errors") or []
    last = errors[-1] if errors else {}
    first_line = str(last.get("msg") or "").strip().split("\n", 1)[0][:MAX_MESSAGE_CHARS]
    return str(record["type"]), last.get("errorCode"), VARYING.sub("#", first_line)


def group_id(key: tuple[str, int | None, str]) -> str:
    """A stable id for a group: the same key gives the same id on every server."""
    return hashlib.sha256(repr(key).encode()).hexdigest()[:16]


def failed_records(store: Store) -> Iterator[Record]:
    """Every failed job, newest first, up to :data:`MAX_SCAN`."""
    cursor: str | None = None
    seen = 0
    while seen < MAX_SCAN:
        page = store.list(state=State.FAILED.value, limit=MAX_PAGE, cursor=cursor)
        for record in page.records[: MAX_SCAN - seen]:
            seen += 1
            yield record
        if page.cursor is None:
            return
        cursor = page.cursor


def grouped(store: Store) -> dict[str, Any]:
    """The answer of ``GET /api/failed``: groups, largest first."""
    groups: dict[str, dict[str, Any]] = {}
    total = 0
    for record in failed_records(store):
        total += 1
        key = error_key(record)
        gid = group_id(key)
        group = groups.get(gid)
        if group is None:
            group = groups[gid] = _new_group(gid, key, record)
        _add(group, record)
    answer = sorted(groups.values(), key=lambda g: (-g["count"], g["type"], g["message"]))
    for group in answer:
        group["queues"] = dict(group["queues"].most_common())
    return {"groups": answer, "total": total, "complete": total < MAX_SCAN}


def _new_group(gid: str, key: tuple[str, int | None, str], record: Record) -> dict[str, Any]:
    """A group, seeded by its newest job (which gives the example message and traceback)."""
    last = (record.get("errors") or [{}])[-1]
    traceback = last.get("traceback")
    return {
        "id": gid,
        "type": key[0],
        "code": key[1],
        "message": key[2],
        "example_message": str(last.get("msg") or ""),
        "example_traceback": None if traceback is None else str(traceback)[-MAX_TRACEBACK_CHARS:],
        "count": 0,
        "queues": Counter(),
        "examples": [],
        "first_failed_at": None,
        "last_failed_at": None,
    }


def _add(group: dict[str, Any], record: Record) -> None:
    group["count"] += 1
    group["queues"][record["queue"]] += 1
    if len(group["examples"]) < EXAMPLES:
        group["examples"].append(record["uuid"])
    at = record.get("finished_at") or record.get("updated_at")
    if at is not None:
        first, last = group["first_failed_at"], group["last_failed_at"]
        group["first_failed_at"] = at if first is None else min(first, at)
        group["last_failed_at"] = at if last is None else max(last, at)


def act_on_group(store: Store, gid: str, action: str) -> dict[str, Any]:
    """Retry or delete every job failed now in group ``gid``; 404 when no job is in it."""
    matched = [r["uuid"] for r in failed_records(store) if group_id(error_key(r)) == gid]
    if not matched:
        raise ApiError(404, f"no failed job is in group {gid!r} now")
    done, refused = 0, []
    for uuid in matched:
        try:
            if action == "retry":
                store.act(uuid, "retry")
            elif not store.delete(uuid):
                raise JobNotFound(uuid)
            done += 1
        except (InvalidTransition, JobNotFound, DuplicateJob) as exc:  # it moved on meanwhile.
            refused.append({"uuid": uuid, "error": str(exc)})
    return {
        "group": gid,
        "action": action,
        "matched": len(matched),
        "done": done,
        "refused": len(refused),
        "refusals": refused[:MAX_REFUSALS],
    }


class FailedGroupsHandler(ApiHandler):
    """``GET /api/failed``: failed jobs grouped by type and error, largest group first."""

    async def get(self) -> None:
        self.send_json(await self.call(grouped))


class FailedGroupActionHandler(ApiHandler):
    """``POST /api/failed/{group}/{retry,delete}``: act on every job of a group; a backend
    that cannot delete answers 501 before any job is touched."""

    async def post(self, gid: str, action: str) -> None:
        gid = self.param(gid, "the group id")
        self.send_json(await self.call(lambda store: act_on_group(store, gid, action)))
