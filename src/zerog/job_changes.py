"""What changed in a job between two reads: the one definition of a progress message, shared
by the HTTP stream (``GET /api/jobs/{uuid}/stream``) and ``zerog job UUID --follow``.

A message holds the watched keys (state, completeness, ETA, progress message, attempts), the
log lines and errors that are new since the previous message, and, once the job is final,
its result.
"""

from __future__ import annotations

from typing import Any

from zerog.model import FINAL_STATES, Record

WATCHED = ("state", "completeness", "eta", "progress_message", "attempts", "stalled")


class Tracker:
    """Turns successive reads of a job into the messages that tell what changed."""

    def __init__(self, initial_lines: int) -> None:
        self.initial_lines = initial_lines
        self.last: dict[str, Any] | None = None
        self.last_event: Any = None
        self.last_error: Any = None

    def message(self, record: Record) -> dict[str, Any] | None:
        """What changed since the previous read, or None when nothing did."""
        first = self.last is None
        events = self._new(record.get("events") or [], self.last_event, first)
        errors = self._new(record.get("errors") or [], self.last_error, first)
        watched = {key: record.get(key) for key in WATCHED}
        if not first and watched == self.last and not events and not errors:
            return None
        self.last = watched
        if events:
            self.last_event = events[-1]
        if errors:
            self.last_error = errors[-1]
        message = {"uuid": record["uuid"], **watched, "events": events, "errors": errors}
        message["final"] = record["state"] in FINAL_STATES
        if message["final"]:
            message["result"] = record.get("result")
            message["result_code"] = record.get("result_code")
        return message

    def _new(self, entries: list[Any], seen: Any, first: bool) -> list[Any]:
        """Entries after the last one sent. Old entries only ever drop off the front, so if
        the last one sent is gone, every entry kept is newer."""
        if first:
            return entries[-self.initial_lines :] if self.initial_lines else []
        if seen is None:
            return entries
        for index in range(len(entries) - 1, -1, -1):
            if entries[index] == seen:
                return entries[index + 1 :]
        return entries
