"""Building blocks of the OpenAPI document, and the paths of the operator's routes (failed
groups, limits, daily statistics, deleting jobs and recurring jobs)."""

from __future__ import annotations

from typing import Any

from zerog.http import _components as c
from zerog.http.failed import GROUP_ACTIONS
from zerog.http.operations import MAX_DAYS

Operation = dict[str, Any]
JSON = "application/json"


def answers(ok: tuple[str, str, str] | None, *errors: tuple[str, str, str]) -> dict[str, Any]:
    """Responses: ``(status, description, schema name)`` each, plus a default JSON error."""
    out: dict[str, Any] = {}
    for status, text, schema in [*([ok] if ok else []), *errors]:
        out[status] = {"description": text, "content": {JSON: {"schema": c.ref(schema)}}}
    out["default"] = {"description": "an error", "content": {JSON: {"schema": c.ref("Error")}}}
    return out


def param(name: str, where: str, schema: dict[str, Any], text: str, **more: Any) -> dict[str, Any]:
    return {"name": name, "in": where, "schema": schema, "description": text, **more}


def path_text(name: str, text: str) -> dict[str, Any]:
    return param(
        name, "path", {"type": "string", "minLength": 1, "maxLength": 256}, text, required=True
    )


def query_text(name: str, text: str) -> dict[str, Any]:
    return param(name, "query", {"type": "string", "maxLength": 256}, text)


CURSOR_PATTERN = "^[0-9]{1,18}$"  # the memory and SQLite backends' cursors: a row number.
NOT_FOUND = ("404", "no such job", "Error")
BAD = ("400", "a bad parameter", "Error")
NOT_SUPPORTED = ("501", "the backend cannot do this", "Error")
AMBIGUOUS = ("300", "a short id that several jobs' ids start or end with (candidates)", "Error")


def operations_paths(prefix: str) -> dict[str, Any]:
    """The operator's routes."""
    group = path_text("group", "a group's id, as GET /api/failed gives it")
    paths: dict[str, Any] = {
        f"{prefix}/api/failed": {
            "get": {
                "operationId": "listFailedGroups",
                "summary": "Failed jobs grouped by type and error, largest group first",
                "responses": answers(("200", "the groups", "FailedGroups")),
            }
        },
        f"{prefix}/api/limits": {
            "get": {
                "operationId": "listLimits",
                "summary": "Concurrency limits, each with how many jobs run under it now",
                "responses": answers(("200", "the limits", "LimitList"), NOT_SUPPORTED),
            }
        },
        f"{prefix}/api/stats/daily": {
            "get": {
                "operationId": "dailyStats",
                "summary": "Completed, failed and retried runs per queue and UTC day, with "
                "wait and run times (the store's statistics)",
                "parameters": [
                    param(
                        "days",
                        "query",
                        {"type": "integer", "minimum": 1},
                        f"how many days, today included (default 14; more than {MAX_DAYS} is "
                        f"clamped to {MAX_DAYS})",
                    )
                ],
                "responses": answers(("200", "the days", "DailyStats"), BAD, NOT_SUPPORTED),
            }
        },
        f"{prefix}/api/recurring/{{id}}": {
            "delete": {
                "operationId": "stopRecurring",
                "summary": "Stop a recurring job (the jobs it spawned stay)",
                "parameters": [path_text("id", "the recurring job's id")],
                "responses": answers(
                    ("200", "stopped", "RecurringStopped"),
                    ("404", "no such recurring job", "Error"),
                    NOT_SUPPORTED,
                ),
            }
        },
    }
    for action in GROUP_ACTIONS:
        paths[f"{prefix}/api/failed/{{group}}/{action}"] = {
            "post": {
                "operationId": f"{action}FailedGroup",
                "summary": f"{action.capitalize()} every job failed now in a group",
                "parameters": [group],
                "responses": answers(
                    ("200", "what was done to each job", "GroupActionResult"),
                    ("404", "no failed job is in that group now", "Error"),
                    NOT_SUPPORTED,
                ),
            }
        }
    return paths


def delete_job_operation(uuid: dict[str, Any]) -> Operation:
    """``DELETE /api/jobs/{uuid}``."""
    return {
        "operationId": "deleteJob",
        "summary": "Delete a finished job and its history",
        "parameters": [uuid],
        "responses": answers(
            ("200", "deleted", "Deleted"),
            AMBIGUOUS,
            NOT_FOUND,
            ("409", "the job is not finished, or a job waits for it", "Conflict"),
            NOT_SUPPORTED,
        ),
    }
