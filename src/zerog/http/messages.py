"""``POST /api/jobs/{uuid}/messages``: tell a running job something (see :mod:`zerog.inbox`),
and the route's part of the OpenAPI document."""

from __future__ import annotations

from typing import Any

from zerog.http import _components as c
from zerog.http._base import ApiError, ApiHandler
from zerog.http._openapi_parts import AMBIGUOUS, JSON, NOT_FOUND, answers, path_text
from zerog.inbox import MAX_MESSAGE_BYTES
from zerog.model import State

BODY_KEYS = frozenset({"message", "queue_if_idle"})


class JobMessageHandler(ApiHandler):
    """Body ``{"message": <any JSON>, "queue_if_idle": false}``. 200 with the job's state
    (``queued`` when it is not running and gets the message at its next run); 409 when it is
    not running and ``queue_if_idle`` is not set, or it is finished; 429 when too many
    messages wait for it; 413 when the message is too large. The sender in the job's history
    is the request's actor (the token's name, else the client's address)."""

    async def post(self, uuid: str) -> None:
        text = self.param(uuid, "the job id")
        body, idle = self._message_body()
        uuid = await self.call(lambda store: store.resolve_id(text))
        state = await self.call(lambda store: store.message(uuid, body, idle))
        self.send_json({"uuid": uuid, "state": str(state), "queued": state != State.RUNNING})

    def _message_body(self) -> tuple[Any, bool]:
        body = self.json_body()
        if not isinstance(body, dict) or "message" not in body:
            raise ApiError(400, "the body must be an object with a 'message' (any JSON value)")
        unknown = sorted(set(body) - BODY_KEYS)
        if unknown:
            raise ApiError(400, f"unknown keys in the body: {', '.join(unknown)}")
        idle = body.get("queue_if_idle", False)
        if not isinstance(idle, bool):
            raise ApiError(400, "'queue_if_idle' must be true or false")
        return body["message"], idle


def message_paths(prefix: str) -> dict[str, Any]:
    """The route's path in the OpenAPI document."""
    schema = {
        "type": "object",
        "properties": {
            "message": {"description": f"any JSON value, at most {MAX_MESSAGE_BYTES} bytes"},
            "queue_if_idle": {"type": "boolean", "default": False},
        },
        "required": ["message"],
        "additionalProperties": False,
    }
    result = c.obj({"uuid": c.STRING, "state": {"enum": c.STATES}, "queued": {"type": "boolean"}})
    return {
        f"{prefix}/api/jobs/{{uuid}}/messages": {
            "post": {
                "operationId": "messageJob",
                "summary": "Send a message to a running job (job_log.messages() reads it)",
                "parameters": [path_text("uuid", "the job's id, or its last digits")],
                "requestBody": {"required": True, "content": {JSON: {"schema": schema}}},
                "responses": {
                    "200": {"description": "sent", "content": {JSON: {"schema": result}}},
                    **answers(
                        None,
                        AMBIGUOUS,
                        ("400", "not a message", "Error"),
                        NOT_FOUND,
                        ("409", "the job is not running (or finished)", "Conflict"),
                        ("413", "the message is too large", "Error"),
                        ("429", "too many messages wait for the job", "Error"),
                    ),
                },
            }
        }
    }
