"""The OpenAPI paths of the operator's edits (:mod:`zerog.http.edits`); request bodies come
from the same rules that check them (:mod:`zerog.http._bodies`)."""

from __future__ import annotations

from typing import Any

from zerog import registry
from zerog.http import _bodies as b
from zerog.http import _components as c
from zerog.http._openapi_parts import (
    AMBIGUOUS,
    JSON,
    NOT_FOUND,
    NOT_SUPPORTED,
    Operation,
    answers,
    path_text,
)

BAD_BODY = ("400", "a body that is not what the route takes (nothing was changed)", "Error")
RECURRENCE = {"type": "object", "properties": {"id": c.STRING}, "required": ["id"]}


def _body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"required": True, "content": {JSON: {"schema": schema}}}


def _ok(text: str, schema: dict[str, Any], status: str = "200") -> dict[str, Any]:
    return {status: {"description": text, "content": {JSON: {"schema": schema}}}}


def _op(op_id: str, summary: str, params: list[Any], body: Any, ok: Any, *errors: Any) -> Operation:
    out: Operation = {"operationId": op_id, "summary": summary, "parameters": params}
    if body is not None:
        out["requestBody"] = _body(body)
    out["responses"] = {**ok, **answers(None, *errors)}
    return out


def _recurring_schema(rules: dict[str, b.Field], **more: Any) -> dict[str, Any]:
    """A recurrence's body, its ``type`` one of the job types registered now."""
    schema = b.body_schema(rules, **more)
    schema["properties"]["type"]["enum"] = sorted(registry.known_types())
    return schema


def edit_paths(prefix: str) -> dict[str, dict[str, Operation]]:
    """Methods to add to the document's paths (some paths have other methods already)."""
    uuid = path_text("uuid", "the job's id, or its last digits")
    name = path_text("name", "the limit's name: queue:<queue>, or a throttle")
    key = path_text("key", "the config key")
    rid = path_text("id", "the recurring job's id")
    limit = c.obj({"name": c.STRING, "maximum": c.INTEGER})
    config = c.obj({"key": c.STRING, "value": {}})
    recurring = "Create a recurring job (one of interval_seconds and cron)"
    return {
        f"{prefix}/api/jobs/{{uuid}}": {
            "patch": _op(
                "editJob",
                "Change a job's priority or queue (while queued) and its tags",
                [uuid],
                b.body_schema(b.JOB_EDIT, at_least_one=True),
                _ok("the job after the change", c.ref("JobSummary")),
                AMBIGUOUS,
                BAD_BODY,
                NOT_FOUND,
                ("409", "the job is running or finished", "Conflict"),
            )
        },
        f"{prefix}/api/limits/{{name}}": {
            "post": _op(
                "setLimit",
                "Set a concurrency limit",
                [name],
                b.body_schema(b.LIMIT, required=("maximum",)),
                _ok("the limit set", limit),
                BAD_BODY,
                NOT_SUPPORTED,
            ),
            "delete": _op(
                "removeLimit",
                "Remove a concurrency limit",
                [name],
                None,
                _ok("removed", c.obj({"name": c.STRING, "removed": {"type": "boolean"}})),
                ("404", "no such limit", "Error"),
                NOT_SUPPORTED,
            ),
        },
        f"{prefix}/api/config": {
            "get": _op(
                "getConfig",
                "The store's shared config (keys set, defaults of the others)",
                [],
                None,
                _ok("the config", c.obj({"config": {"type": "object"}})),
            )
        },
        f"{prefix}/api/config/{{key}}": {
            "post": _op(
                "setConfig",
                "Set a shared config key for every process on the store",
                [key],
                b.body_schema(b.CONFIG, required=("value",)),
                _ok("the key's value now", config),
                BAD_BODY,
                NOT_SUPPORTED,
            ),
            "delete": _op(
                "unsetConfig",
                "Unset a shared config key (back to its default)",
                [key],
                None,
                _ok("the key's value now", config),
                NOT_SUPPORTED,
            ),
        },
        f"{prefix}/api/recurring": {
            "post": _op(
                "createRecurring",
                recurring,
                [],
                _recurring_schema(b.RECUR_CREATE, required=b.RECUR_REQUIRED),
                _ok("the recurring job", RECURRENCE, "201"),
                BAD_BODY,
                ("409", "a recurring job with that id exists", "Error"),
                NOT_SUPPORTED,
            )
        },
        f"{prefix}/api/recurring/{{id}}": {
            "patch": _op(
                "editRecurring",
                "Change a recurring job's schedule, job, queue, priority, tags, ...",
                [rid],
                _recurring_schema(b.RECUR_UPDATE, at_least_one=True),
                _ok("the recurring job after the change", RECURRENCE),
                BAD_BODY,
                ("404", "no such recurring job", "Error"),
                NOT_SUPPORTED,
            )
        },
    }
