"""The fixed parts of the OpenAPI document: the shapes of every answer.

Each shape lists the keys a client can rely on and allows more (``additionalProperties``), so
that adding a field to a record is not a breaking change.
"""

from __future__ import annotations

from typing import Any

from zerog.model import ALL_STATES

STATES = [state.value for state in ALL_STATES]


def nullable(kind: str) -> dict[str, Any]:
    """A value of ``kind`` or null."""
    return {"type": [kind, "null"]}


def ref(name: str) -> dict[str, str]:
    """A reference to a component schema."""
    return {"$ref": f"#/components/schemas/{name}"}


def obj(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    """An open object with these properties."""
    out: dict[str, Any] = {"type": "object", "properties": properties}
    out["required"] = list(properties) if required is None else required
    out["additionalProperties"] = True
    return out


NUMBER = {"type": "number"}
INTEGER = {"type": "integer"}
STRING = {"type": "string"}
ENTRY = obj({"timeStamp": NUMBER, "msg": STRING})
USAGE = obj(
    {
        "wall_seconds": NUMBER,
        "cpu_user_seconds": NUMBER,
        "cpu_system_seconds": NUMBER,
        "peak_rss_bytes": INTEGER,
        "start_rss_bytes": INTEGER,
        "scope": {"enum": ["thread", "process"]},
        "threads": INTEGER,
        "pid": INTEGER,
    },
    required=["wall_seconds", "cpu_user_seconds", "cpu_system_seconds", "peak_rss_bytes"],
)
"""An attempt's figures (zerog.worker.usage says what each measures)."""
ERROR_ENTRY = obj(
    {
        "timeStamp": NUMBER,
        "errorCode": nullable("integer"),
        "msg": STRING,
        "usage": {"anyOf": [USAGE, {"type": "null"}]},
    },
    required=["timeStamp", "msg"],
)
HISTORY_ENTRY = obj(
    {
        "at": NUMBER,
        "event": STRING,
        "state": STRING,
        "worker": nullable("string"),
        "detail": nullable("string"),
    },
    required=["at", "event", "state"],
)

_COMMON_JOB = {
    "uuid": STRING,
    "type": STRING,
    "queue": STRING,
    "state": {"enum": STATES},
    "priority": INTEGER,
    "tags": {"type": "array", "items": STRING},
    "attempts": INTEGER,
    "max_retries": INTEGER,
    "completeness": NUMBER,
    "progress_message": nullable("string"),
    "eta": nullable("number"),
    "quiet_seconds": nullable("number"),
    "stalled": {"type": "boolean"},
    "created_at": NUMBER,
    "updated_at": NUMBER,
    "started_at": nullable("number"),
    "finished_at": nullable("number"),
    "worker": nullable("string"),
    "usage": {"anyOf": [USAGE, {"type": "null"}]},  # the latest attempt's figures.
}
_JOB_REQUIRED = ["uuid", "type", "queue", "state", "priority", "completeness", "eta"]

JOB = obj(
    {
        **_COMMON_JOB,
        "values": {"type": "object"},
        "events": {"type": "array", "items": ENTRY},
        "errors": {"type": "array", "items": ERROR_ENTRY},
        "history": {"type": "array", "items": HISTORY_ENTRY},
        "result": {},
        "result_code": nullable("integer"),
    },
    required=[*_JOB_REQUIRED, "values", "events", "errors", "history", "result"],
)
JOB_SUMMARY = obj(
    {
        **_COMMON_JOB,
        "last_error": {"anyOf": [ERROR_ENTRY, {"type": "null"}]},
        "description": STRING,
        "last_message": nullable("string"),
    },
    required=[*_JOB_REQUIRED, "last_error", "description", "last_message"],
)
COUNTS = obj({state: INTEGER for state in STATES})
DURATIONS = obj(
    {
        "count": INTEGER,
        "mean": nullable("number"),
        "p50": nullable("number"),
        "p95": nullable("number"),
        "max": nullable("number"),
    }
)
QUEUE_SUMMARY = obj({"name": STRING, "counts": ref("Counts"), "paused": {"type": "boolean"}})
QUEUE_STATS = obj(
    {
        "window": INTEGER,
        "finished_in_window": INTEGER,
        "wait": ref("Durations"),
        "run": ref("Durations"),
        "depth": INTEGER,
        "running": INTEGER,
        "oldest_waiting_age_seconds": nullable("number"),
        "oldest_waiting_exact": {"type": "boolean"},
        "today": {"type": ["object", "null"]},
    }
)

FAILED_GROUP = obj(
    {
        "id": STRING,
        "type": STRING,
        "code": nullable("integer"),
        "message": STRING,
        "example_message": STRING,
        "example_traceback": nullable("string"),
        "count": INTEGER,
        "queues": {"type": "object", "additionalProperties": INTEGER},
        "examples": {"type": "array", "items": STRING},
        "first_failed_at": nullable("number"),
        "last_failed_at": nullable("number"),
    }
)
DAY_OF_QUEUE = obj(
    {
        "completed": INTEGER,
        "failed": INTEGER,
        "retried": INTEGER,
        "wait_mean": nullable("number"),
        "run_mean": nullable("number"),
    }
)
OPERATIONS: dict[str, Any] = {
    "Deleted": obj({"uuid": STRING, "deleted": {"type": "boolean"}}),
    "FailedGroups": obj(
        {
            "groups": {"type": "array", "items": FAILED_GROUP},
            "total": INTEGER,
            "complete": {"type": "boolean"},
        }
    ),
    "GroupActionResult": obj(
        {
            "group": STRING,
            "action": STRING,
            "matched": INTEGER,
            "done": INTEGER,
            "refused": INTEGER,
            "refusals": {"type": "array", "items": obj({"uuid": STRING, "error": STRING})},
        }
    ),
    "LimitList": obj(
        {
            "limits": {
                "type": "array",
                "items": obj(
                    {
                        "name": STRING,
                        "maximum": INTEGER,
                        "running": INTEGER,
                        "queue": nullable("string"),
                    }
                ),
            }
        }
    ),
    "DailyStats": obj(
        {
            "days": {
                "type": "array",
                "items": obj(
                    {
                        "day": NUMBER,
                        "queues": {"type": "object", "additionalProperties": DAY_OF_QUEUE},
                    }
                ),
            },
            "queues": {"type": "array", "items": STRING},
        }
    ),
    "RecurringStopped": obj({"id": STRING, "stopped": {"type": "boolean"}}),
}

SCHEMAS: dict[str, Any] = {
    "Error": obj({"error": STRING}),
    "ValidationErrors": obj({"error": STRING, "errors": {"type": "object"}}, required=["error"]),
    "UnknownType": obj({"error": STRING, "types": {"type": "array", "items": STRING}}),
    "Conflict": obj({"error": STRING, "state": STRING, "action": STRING}),
    "Created": obj({"uuid": STRING}),
    "Job": JOB,
    "JobSummary": JOB_SUMMARY,
    "StalledJobs": obj({"jobs": {"type": "array", "items": ref("JobSummary")}}, ["jobs"]),
    "JobPage": obj(
        {"jobs": {"type": "array", "items": ref("JobSummary")}, "cursor": nullable("string")}
    ),
    "ActionResult": obj(
        {
            "uuid": STRING,
            "action": STRING,
            "state": {"enum": STATES},
            "requested": {"type": "boolean"},
        }
    ),
    "Counts": COUNTS,
    "Durations": DURATIONS,
    "QueueSummary": QUEUE_SUMMARY,
    "QueueList": obj({"queues": {"type": "array", "items": ref("QueueSummary")}}),
    "Queue": obj(
        {
            "name": STRING,
            "counts": ref("Counts"),
            "paused": {"type": "boolean"},
            "stats": QUEUE_STATS,
        }
    ),
    "QueuePaused": obj({"queue": STRING, "paused": {"type": "boolean"}}),
    "QueueKicked": obj({"queue": STRING, "kicked": INTEGER}),
    "WorkerList": obj({"workers": {"type": "array", "items": {"type": "object"}}}),
    "RecurringList": obj({"recurring": {"type": "array", "items": {"type": "object"}}}),
    "Health": obj({"status": STRING}),
    **OPERATIONS,
    "StreamEvent": obj(
        {
            "event": STRING,
            "data": {
                "type": "string",
                "contentMediaType": "application/json",
                "contentSchema": ref("StreamMessage"),
            },
        },
        required=["data"],
    ),
    "StreamMessage": obj(
        {
            "uuid": STRING,
            "state": {"enum": STATES},
            "completeness": NUMBER,
            "eta": nullable("number"),
            "progress_message": nullable("string"),
            "attempts": INTEGER,
            "stalled": {"type": "boolean"},
            "events": {"type": "array", "items": ENTRY},
            "errors": {"type": "array", "items": ERROR_ENTRY},
            "final": {"type": "boolean"},
        },
        required=["uuid", "state", "completeness", "eta", "events", "errors", "final"],
    ),
}
