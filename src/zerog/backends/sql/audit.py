"""The audit role on the SQL engine: an append-only ``audit`` table per store.

The statements are this module's own, one file per dialect (``audit_sql/<dialect>.sql``),
picked by the connection's dialect (``conn.q.dialect``) as the beanstalk package picks its
own. The table is made by the first audit step (``CREATE TABLE IF NOT EXISTS``, in the same
write transaction), so stores made before it need no migration; reads run in a write
transaction for the same reason (they are an operator's, rare).
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from importlib import resources
from typing import Any, TypeVar

from zerog.audit import MAX_AUDIT_PAGE, AuditQuery
from zerog.backends.sql.statements import parse_named
from zerog.backends.sql.txn import Txn

T = TypeVar("T")
COLUMNS = ("seq", "at", "actor", "source", "action", "target", "detail")


def _load(dialect: str) -> dict[str, str]:
    folder = resources.files(__package__).joinpath("audit_sql")
    return parse_named(folder.joinpath(f"{dialect}.sql").read_text(encoding="utf-8"))


STATEMENTS = {dialect: _load(dialect) for dialect in ("sqlite", "postgres")}


class SqlAudit(abc.ABC):
    """Mixed into :class:`~.backend.SqlBackend`: append and read, each one transaction."""

    @abc.abstractmethod
    def transact(self, body: Callable[[Txn], T]) -> T:
        """See SqlBackend.transact."""

    def append_audit(self, entry: dict[str, Any]) -> int:
        params = {key: entry.get(key) for key in COLUMNS[1:]}

        def step(txn: Txn) -> int:
            q = _made(txn)
            return int(txn.conn.execute(q["add_audit"], params).fetchone()[0])

        return self.transact(step)

    def audit_log(self, query: AuditQuery) -> list[dict[str, Any]]:
        params = {
            "before": query.before,
            "actor": query.actor,
            "action": query.action,
            "target": query.target,
            "limit": max(0, min(query.limit, MAX_AUDIT_PAGE)),
        }

        def step(txn: Txn) -> list[dict[str, Any]]:
            rows = txn.conn.execute(_made(txn)["audit_page"], params).fetchall()
            return [dict(zip(COLUMNS, row, strict=True)) for row in rows]

        return self.transact(step)


def _made(txn: Txn) -> dict[str, str]:
    """The dialect's statements, the table made if it is not yet."""
    q = STATEMENTS[txn.q.dialect]
    txn.conn.execute(q["create_audit"])
    return q
