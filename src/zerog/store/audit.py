"""The Store's audit part: reading the trail (each part records its own actions, through
``Facade._audited``)."""

from __future__ import annotations

from typing import Any

from zerog.audit import AuditQuery
from zerog.backends.contract import Audit as AuditRole
from zerog.store._base import Facade


class AuditTrail(Facade):
    """The operator actions recorded; NotSupported on a backend without the audit role."""

    def audit(self, query: AuditQuery | None = None) -> list[dict[str, Any]]:
        """Entries newest first, filtered and paged by ``query`` (see AuditQuery)."""
        return self._role(AuditRole).audit_log(query or AuditQuery())
