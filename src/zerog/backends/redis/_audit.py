"""The audit role on Redis: a list of entries, oldest first, appended by ``lua/audit.lua``
(which numbers them); reads walk it from its end."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from zerog.audit import MAX_AUDIT_PAGE, AuditQuery, matches
from zerog.backends.redis._base import RedisBase

CHUNK = 500  # entries one read of the list takes.


class AuditPart(RedisBase):
    """Append (one script) and read (plain LRANGEs, newest first)."""

    def append_audit(self, entry: dict[str, Any]) -> int:
        text = json.dumps(entry, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
        return int(self.script("audit", text)[1])

    def audit_log(self, query: AuditQuery) -> list[dict[str, Any]]:
        limit = max(0, min(query.limit, MAX_AUDIT_PAGE))
        key = self.key("audit")
        found: list[dict[str, Any]] = []
        end = -1
        while len(found) < limit:
            start = end - CHUNK + 1
            texts: list[bytes] = self.command(self._reader(key, start, end))
            for text in reversed(texts):
                entry = json.loads(text)
                if matches(entry, query) and len(found) < limit:
                    found.append(entry)
            if len(texts) < CHUNK:
                break
            end = start - 1
        return found

    def _reader(self, key: str, start: int, end: int) -> Callable[[], Any]:
        """A read of the list's items ``start`` to ``end`` (negative: from its end)."""
        return lambda: self.client.lrange(key, start, end)
