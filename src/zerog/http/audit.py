"""``GET /api/audit``: the operator actions recorded (zerog.audit), newest first, and the
route's part of the OpenAPI document."""

from __future__ import annotations

from typing import Any

from zerog.audit import MAX_AUDIT_PAGE, AuditQuery
from zerog.http import _components as c
from zerog.http._base import ApiHandler
from zerog.http._openapi_parts import BAD, answers, param, query_text

DEFAULT_PAGE = 100


class AuditHandler(ApiHandler):
    """Filters ``actor``, ``action``, ``target`` (exact); ``before`` (a seq) pages back;
    ``cursor`` in the answer is the next page's ``before`` (null at the end)."""

    async def get(self) -> None:
        limit = self.int_arg("limit", DEFAULT_PAGE, 1, MAX_AUDIT_PAGE)
        before = self.text_arg("before")
        query = AuditQuery(
            actor=self.text_arg("actor"),
            action=self.text_arg("action"),
            target=self.text_arg("target"),
            before=None if before is None else self.int_arg("before", 0, 1, 2**62),
            limit=limit,
        )
        entries = await self.call(lambda store: store.audit(query))
        cursor = str(entries[-1]["seq"]) if len(entries) == limit else None
        self.send_json({"entries": entries, "cursor": cursor})


def audit_paths(prefix: str) -> dict[str, Any]:
    """The route's path in the OpenAPI document."""
    entry = c.obj(
        {
            "seq": {"type": "integer"},
            "at": c.NUMBER,
            "actor": c.STRING,
            "source": c.STRING,
            "action": c.STRING,
            "target": c.STRING,
            "detail": {"type": ["string", "null"]},
        }
    )
    page = c.obj({"entries": {"type": "array", "items": entry}, "cursor": c.nullable("string")})
    return {
        f"{prefix}/api/audit": {
            "get": {
                "operationId": "listAudit",
                "summary": "Operator actions recorded: who did what, when, from where; newest "
                "first",
                "parameters": [
                    query_text("actor", "only this actor's (a token's name, user@host, ...)"),
                    query_text("action", "only this action (cancel, kick, pause-queue, ...)"),
                    query_text("target", "only on this job, queue, limit, ..."),
                    param(
                        "before",
                        "query",
                        {"type": "integer", "minimum": 1},
                        "entries older than this seq (the cursor of the previous page)",
                    ),
                    param(
                        "limit",
                        "query",
                        {"type": "integer", "minimum": 1},
                        f"entries at most (a larger page is cut to {MAX_AUDIT_PAGE})",
                    ),
                ],
                "responses": {
                    "200": {
                        "description": "a page",
                        "content": {"application/json": {"schema": page}},
                    },
                    **answers(None, BAD),
                },
            }
        }
    }
