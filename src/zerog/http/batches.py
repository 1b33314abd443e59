"""``GET /api/batches/{id}``: a batch's progress as a whole, its callback, and how each member
ended (see ``Store.batch``), and the route's part of the OpenAPI document."""

from __future__ import annotations

from typing import Any

from zerog.http import _components as c
from zerog.http._base import ApiHandler
from zerog.http._openapi_parts import answers, path_text


class BatchHandler(ApiHandler):
    """One batch, by its id (its callback's uuid, or a short id of it)."""

    async def get(self, batch_id: str) -> None:
        text = self.param(batch_id, "the batch id")
        progress = await self.call(lambda store: store.batch(store.resolve_id(text)))
        self.send_json(progress)


def batch_paths(prefix: str) -> dict[str, Any]:
    """The route's path in the OpenAPI document."""
    count = {"type": "integer", "minimum": 0}
    progress = c.obj(
        {
            "id": c.STRING,
            "callback": c.obj({"uuid": c.STRING, "type": c.STRING, "state": c.STRING}),
            "total": count,
            "ended": count,
            "complete": count,
            "failed": count,
            "running": count,
            "counts": {"type": "object", "additionalProperties": count},
            "completeness": c.NUMBER,
            "members": {"type": "object", "additionalProperties": c.STRING},
        }
    )
    return {
        f"{prefix}/api/batches/{{id}}": {
            "get": {
                "operationId": "getBatch",
                "summary": "A batch's progress: members by state, mean completeness, each "
                "member's state, and its callback (which runs once every member ended)",
                "parameters": [path_text("id", "the batch's id: its callback job's uuid")],
                "responses": {
                    "200": {
                        "description": "the batch",
                        "content": {"application/json": {"schema": progress}},
                    },
                    **answers(None, ("404", "no such batch", "Error")),
                },
            }
        }
    }
