"""The memory backend's audit role: a list, appended under the one lock."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from zerog.audit import MAX_AUDIT_PAGE, AuditQuery, matches
from zerog.backends.memory._base import MemoryState


class MemoryAudit(MemoryState):
    """Entries in order of ``seq`` (its index + 1)."""

    def __init__(self, clock: Callable[[], float] | None = None) -> None:
        super().__init__(clock)
        self._audit_entries: list[dict[str, Any]] = []

    def append_audit(self, entry: dict[str, Any]) -> int:
        stored = json.loads(json.dumps(entry))  # a copy, and JSON or a TypeError now.
        with self._atomic():
            stored["seq"] = len(self._audit_entries) + 1
            self._audit_entries.append(stored)
            return int(stored["seq"])

    def audit_log(self, query: AuditQuery) -> list[dict[str, Any]]:
        limit = max(0, min(query.limit, MAX_AUDIT_PAGE))
        found: list[dict[str, Any]] = []
        with self._atomic():
            for entry in reversed(self._audit_entries):
                if len(found) >= limit:
                    break
                if matches(entry, query):
                    found.append(dict(entry))
        return found
