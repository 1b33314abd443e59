"""``GET /api/openapi.json``: the API as an OpenAPI 3.1 document, generated on each request.

Every registered job type gets its own ``POST /api/jobs/{type}`` path whose request body is
that type's marshmallow schema (see :mod:`zerog.http._schema`), so the document changes as job
modules are imported and a client generator sees each type's fields. The answers' shapes are in
:mod:`zerog.http._components`.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from zerog import __version__, registry
from zerog.http import _components as c
from zerog.http._base import ApiHandler
from zerog.http._edit_paths import edit_paths
from zerog.http._openapi_parts import (
    AMBIGUOUS,
    BAD,
    CURSOR_PATTERN,
    JSON,
    NOT_FOUND,
    Operation,
    delete_job_operation,
)
from zerog.http._openapi_parts import answers as _answers
from zerog.http._openapi_parts import operations_paths as _operations_paths
from zerog.http._openapi_parts import param as _param
from zerog.http._openapi_parts import path_text as _path_text
from zerog.http._openapi_parts import query_text as _query_text
from zerog.http._schema import schema_of
from zerog.http.audit import audit_paths
from zerog.http.batches import batch_paths
from zerog.http.jobs import JOB_ACTIONS
from zerog.http.messages import message_paths
from zerog.http.rates import rate_limit_paths


def build(prefix: str = "", token: bool = False) -> dict[str, Any]:
    """The whole document for the job types registered now (imports ``JOB_MODULES``)."""
    registry.import_job_modules()
    paths: dict[str, Any] = {}
    paths.update(_job_paths(prefix))
    paths.update(_type_paths(prefix))
    paths.update(_queue_paths(prefix))
    paths[f"{prefix}/api/workers"] = _workers_path()
    paths[f"{prefix}/api/stalled"] = {
        "get": {
            "operationId": "listStalled",
            "summary": "Running jobs that made no progress for longer than their stall "
            "threshold, longest stuck first",
            "parameters": [_query_text("queue", "only jobs of this queue")],
            "responses": _answers(("200", "the stalled jobs", "StalledJobs"), BAD),
        }
    }
    paths[f"{prefix}/api/recurring"] = {
        "get": {
            "operationId": "listRecurring",
            "summary": "Recurring jobs: schedule, next due time, jobs spawned",
            "responses": _answers(("200", "the recurring jobs", "RecurringList")),
        }
    }
    paths.update(_operations_paths(prefix))
    paths.update(message_paths(prefix))
    paths.update(audit_paths(prefix))
    paths.update(batch_paths(prefix))
    paths.update(rate_limit_paths(prefix))
    for path, methods in edit_paths(prefix).items():  # some add to a path's methods.
        paths.setdefault(path, {}).update(methods)
    paths.update(_system_paths(prefix))
    document: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {
            "title": "zerog",
            "version": __version__,
            "description": "Background jobs built for long-running work.",
        },
        "paths": paths,
        "components": {"schemas": c.SCHEMAS},
    }
    if token:
        document["components"]["securitySchemes"] = {"bearer": {"type": "http", "scheme": "bearer"}}
        document["security"] = [{"bearer": []}]
    return document


def _list_operation() -> Operation:
    """``GET /api/jobs``."""
    return {
        "operationId": "listJobs",
        "summary": "A page of jobs, newest first",
        "parameters": [
            _param("state", "query", {"enum": c.STATES}, "only jobs in this state"),
            _query_text("queue", "only jobs of this queue"),
            _query_text("type", "only jobs of this type"),
            _query_text("tag", "only jobs with this tag"),
            _query_text("worker", "only jobs this worker holds or last held"),
            _param(
                "limit",
                "query",
                {"type": "integer", "minimum": 1},
                "page size; more than 500 is clamped to 500",
            ),
            _param(
                "cursor",
                "query",
                {"type": "string", "pattern": CURSOR_PATTERN},
                "the cursor the previous page gave",
            ),
        ],
        "responses": _answers(("200", "a page", "JobPage"), BAD),
    }


def _job_paths(prefix: str) -> dict[str, Any]:
    uuid = _path_text("uuid", "the job's id, or its last digits (or a unique prefix)")
    listing = _list_operation()
    paths: dict[str, Any] = {
        f"{prefix}/api/jobs": {"get": listing},
        f"{prefix}/api/jobs/{{uuid}}": {
            "get": {
                "operationId": "getJob",
                "summary": "A job: values, state, completeness, ETA, log, errors, history, result",
                "parameters": [uuid],
                "responses": _answers(("200", "the job", "Job"), AMBIGUOUS, NOT_FOUND),
            },
            "delete": delete_job_operation(uuid),
        },
        f"{prefix}/api/jobs/{{uuid}}/stream": {"get": _stream_operation(uuid)},
    }
    for action in JOB_ACTIONS:
        paths[f"{prefix}/api/jobs/{{uuid}}/{action}"] = {
            "post": {
                "operationId": f"{action}Job",
                "summary": f"{action.capitalize()} a job",
                "parameters": [uuid],
                "responses": _answers(
                    ("200", "done, or requested of the running job", "ActionResult"),
                    AMBIGUOUS,
                    NOT_FOUND,
                    ("409", "the job's state does not allow it", "Conflict"),
                ),
            }
        }
    return paths


def _stream_operation(uuid: dict[str, Any]) -> Operation:
    return {
        "operationId": "streamJob",
        "summary": "Server-Sent Events of a job's progress until it reaches a final state",
        "parameters": [uuid],
        "responses": {
            "200": {
                "description": "an event stream; each data line is JSON",
                "content": {"text/event-stream": {"schema": c.ref("StreamEvent")}},
            },
            **_answers(None, NOT_FOUND),
        },
    }


def _type_paths(prefix: str) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for job_type in registry.known_types():
        cls = registry.job_class(job_type)
        paths[f"{prefix}/api/jobs/{quote(job_type, safe='')}"] = {
            "post": {
                "operationId": "enqueue_" + re.sub(r"\W", "_", job_type),
                "summary": f"Enqueue a {job_type} job (queue {cls.QUEUE_NAME!r})",
                "description": (cls.__doc__ or "").strip(),
                "parameters": [
                    _param(
                        "priority",
                        "query",
                        {"type": "integer", "minimum": -(2**31), "maximum": 2**31},
                        "lower runs sooner",
                    ),
                    _param(
                        "delay",
                        "query",
                        {"type": "number", "minimum": 0, "maximum": 315360000},
                        "seconds to wait before it may run",
                    ),
                    _param(
                        "tag",
                        "query",
                        {
                            "type": "array",
                            "items": {"type": "string", "minLength": 1, "maxLength": 256},
                            "maxItems": 32,
                        },
                        "tags; repeat for more",
                        explode=True,
                    ),
                ],
                "requestBody": _values_body(schema_of(cls.schema())),
                "responses": _answers(
                    ("201", "stored and queued", "Created"),
                    ("400", "invalid values, per field", "ValidationErrors"),
                    ("413", "the body or the values are too large", "Error"),
                ),
            }
        }
    return paths


def _values_body(schema: dict[str, Any]) -> dict[str, Any]:
    """The job's values; a body may be left out (meaning ``{}``) when no field is required."""
    return {"required": bool(schema.get("required")), "content": {JSON: {"schema": schema}}}


def _queue_paths(prefix: str) -> dict[str, Any]:
    name = _path_text("name", "the queue's name")
    paths: dict[str, Any] = {
        f"{prefix}/api/queues": {
            "get": {
                "operationId": "listQueues",
                "summary": "Every queue with its counts",
                "responses": _answers(("200", "the queues", "QueueList")),
            }
        },
        f"{prefix}/api/queues/{{name}}": {
            "get": {
                "operationId": "getQueue",
                "summary": "A queue: counts per state, paused, wait and run stats",
                "parameters": [name],
                "responses": _answers(
                    ("200", "the queue", "Queue"), ("404", "no such queue", "Error")
                ),
            }
        },
    }
    for action, schema in (("pause", "QueuePaused"), ("resume", "QueuePaused")):
        paths[f"{prefix}/api/queues/{{name}}/{action}"] = {
            "post": {
                "operationId": f"{action}Queue",
                "summary": f"{action.capitalize()} a queue",
                "parameters": [name],
                "responses": _answers(
                    ("200", "done", schema), ("501", "the backend cannot pause queues", "Error")
                ),
            }
        }
    paths[f"{prefix}/api/queues/{{name}}/kick"] = {
        "post": {
            "operationId": "kickQueue",
            "summary": "Retry failed jobs of a queue, oldest failure first",
            "parameters": [
                name,
                _param(
                    "count",
                    "query",
                    {"type": "integer", "minimum": 1},
                    "how many (default 1, at most 10000)",
                ),
            ],
            "responses": _answers(("200", "how many were kicked", "QueueKicked"), BAD),
        }
    }
    return paths


def _workers_path() -> dict[str, Any]:
    """``GET /api/workers``."""
    return {
        "get": {
            "operationId": "listWorkers",
            "summary": "Live workers",
            "responses": _answers(
                ("200", "the workers", "WorkerList"),
                ("501", "the backend has no worker registry", "Error"),
            ),
        }
    }


def _system_paths(prefix: str) -> dict[str, Any]:
    def plain(operation_id: str, summary: str, media: str, **more: Any) -> Operation:
        return {
            "operationId": operation_id,
            "summary": summary,
            "responses": {
                "200": {"description": summary, "content": {media: {"schema": {"type": "string"}}}},
                **_answers(None),
            },
            **more,
        }

    return {
        f"{prefix}/api/openapi.json": {
            "get": {
                "operationId": "openapi",
                "summary": "This document",
                "responses": {
                    "200": {
                        "description": "the document",
                        "content": {JSON: {"schema": {"type": "object"}}},
                    },
                    **_answers(None),
                },
            }
        },
        f"{prefix}/metrics": {"get": plain("metrics", "Prometheus metrics", "text/plain")},
        f"{prefix}/healthz": {
            "get": {
                "operationId": "health",
                "summary": "Liveness: the process serves requests",
                "security": [],
                "responses": _answers(("200", "the process serves", "Health")),
            }
        },
        f"{prefix}/readyz": {
            "get": {
                "operationId": "ready",
                "summary": "Readiness: the store takes a write now",
                "security": [],
                "responses": _answers(
                    ("200", "the store takes a write", "Health"),
                    ("503", "the store cannot take a write now", "Health"),
                ),
            }
        },
        # The page holds no data (its scripts read the API with the token), so it is open.
        f"{prefix}/": {"get": plain("index", "The dashboard", "text/html", security=[])},
    }


class OpenApiHandler(ApiHandler):
    """``GET /api/openapi.json``."""

    async def get(self) -> None:
        prefix, token = self.api.prefix, self.api.token is not None
        self.send_json(await self.call(lambda _: build(prefix, token)))
