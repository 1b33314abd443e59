"""The audit role: an append-only log of operator actions (see :mod:`zerog.audit`)."""

from __future__ import annotations

import abc
from typing import Any

from zerog.audit import AuditQuery


class Audit(abc.ABC):
    """Entries are appended, never changed or deleted (retention does not touch them)."""

    @abc.abstractmethod
    def append_audit(self, entry: dict[str, Any]) -> int:
        """Append one entry (``at``, ``actor``, ``source``, ``action``, ``target``,
        ``detail``, as :func:`zerog.audit.audit_entry` makes it); returns its ``seq``, which
        grows with every entry of the store. Raises ValueError or TypeError when it is not
        JSON."""

    @abc.abstractmethod
    def audit_log(self, query: AuditQuery) -> list[dict[str, Any]]:
        """Entries matching ``query``, newest first (highest ``seq``), at most ``limit``,
        each with its ``seq``. A read; an empty list when none matches."""
