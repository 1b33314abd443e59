"""Bodies of the operator's edit routes (:mod:`zerog.http.edits`), each described once: the
same :class:`Field` rules check a request (a 400 naming the key and what it must be) and
become the body's JSON Schema in the OpenAPI document, so the two cannot drift apart.

The store checks what it is given as well (a queue's length, a cron line, a limit's sign);
these rules add what JSON brings (``true`` is not an integer, ``1e400`` is no number) and
bounds that keep a typo from becoming a schedule of ten thousand years.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from zerog.http._base import ApiError
from zerog.store.checks import MAX_QUEUE_CHARS, MAX_TAG_CHARS

INT_BOUND = 2**31  # priorities, retries, limits and backlogs: 64-bit in every backend.
MAX_SECONDS = 10 * 365 * 86400.0  # ten years: longer is a typo, not a schedule.
MAX_LIST = 32  # tags or throttles in one body.
MAX_TEXT = 256  # an id, a type, a cron line, a throttle.


@dataclass(frozen=True)
class Field:
    """What one key of a body may hold: ``kind`` is integer, number, string, strings (a list
    of strings), object or any; ``nullable`` lets it be null."""

    kind: str
    minimum: float | None = None
    maximum: float | None = None
    max_chars: int = MAX_TEXT
    nullable: bool = False
    text: str = ""

    def check(self, key: str, value: Any) -> Any:
        """The value (an integral float such as ``3.0`` made an int, as JSON Schema counts
        it an integer); 400 naming ``key`` when it breaks the rule."""
        if value is None:
            if not self.nullable:
                raise ApiError(400, f"'{key}' may not be null")
            return None
        problem = _problem(self, value)
        if problem:
            raise ApiError(400, f"'{key}' {problem}")
        return int(value) if self.kind == "integer" else value

    def schema(self) -> dict[str, Any]:
        """The rule as JSON Schema."""
        out: dict[str, Any] = {"description": self.text} if self.text else {}
        if self.kind in ("integer", "number"):
            out["type"] = self.kind
            bounds = {"minimum": self.minimum, "maximum": self.maximum}
            out.update({name: bound for name, bound in bounds.items() if bound is not None})
        elif self.kind == "string":
            out.update(type="string", minLength=1, maxLength=self.max_chars)
        elif self.kind == "strings":
            item = {"type": "string", "minLength": 1, "maxLength": self.max_chars}
            out.update(type="array", items=item, maxItems=MAX_LIST)
        elif self.kind == "object":
            out["type"] = "object"
        elif not self.nullable:  # any JSON value but null.
            out["not"] = {"type": "null"}
        if self.nullable and "type" in out:
            out["type"] = [out["type"], "null"]
        return out


def _problem(rule: Field, value: Any) -> str | None:
    """What is wrong with a non-null value (None: nothing)."""
    if rule.kind in ("integer", "number"):
        return _number_problem(rule, value)
    if rule.kind == "string":
        if not isinstance(value, str) or not value or len(value) > rule.max_chars:
            return f"must be a non-empty string of at most {rule.max_chars} characters"
    elif rule.kind == "strings":
        if (
            not isinstance(value, list)
            or len(value) > MAX_LIST
            or not all(isinstance(v, str) and v and len(v) <= rule.max_chars for v in value)
        ):
            return (
                f"must be a list of at most {MAX_LIST} non-empty strings of at most "
                f"{rule.max_chars} characters"
            )
    elif rule.kind == "object" and not isinstance(value, dict):
        return "must be a JSON object"
    return None


def _number_problem(rule: Field, value: Any) -> str | None:
    whole = rule.kind == "integer"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return f"must be {'an integer' if whole else 'a number'}"
    if not math.isfinite(value) or (whole and value != int(value)):
        return f"must be {'an integer' if whole else 'a finite number'}"
    if not (
        (rule.minimum is None or value >= rule.minimum)
        and (rule.maximum is None or value <= rule.maximum)
    ):
        return f"must be within {_bound(rule.minimum)}..{_bound(rule.maximum)}"
    return None


def _bound(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def checked(
    body: Any, rules: dict[str, Field], required: tuple[str, ...] = (), at_least_one: bool = False
) -> dict[str, Any]:
    """The body, a JSON object whose keys are all known and whose values keep their rules;
    400 otherwise."""
    if not isinstance(body, dict):
        raise ApiError(400, "the body must be a JSON object")
    unknown = sorted(set(body) - set(rules))
    if unknown:
        raise ApiError(400, f"unknown keys in the body: {', '.join(unknown)}", known=sorted(rules))
    missing = [key for key in required if key not in body]
    if missing:
        raise ApiError(400, f"the body needs {', '.join(repr(k) for k in missing)}")
    if at_least_one and not body:
        raise ApiError(400, f"the body changes nothing; give one of {', '.join(sorted(rules))}")
    return {key: rules[key].check(key, value) for key, value in body.items()}


def body_schema(
    rules: dict[str, Field], required: tuple[str, ...] = (), at_least_one: bool = False
) -> dict[str, Any]:
    """The JSON Schema of a body the rules accept."""
    schema: dict[str, Any] = {
        "type": "object",
        "properties": {key: rule.schema() for key, rule in rules.items()},
        "additionalProperties": False,
    }
    if required:
        schema["required"] = list(required)
    if at_least_one:
        schema["minProperties"] = 1
    return schema


PRIORITY = Field("integer", -INT_BOUND, INT_BOUND, text="lower runs sooner")
TAGS = Field("strings", max_chars=MAX_TAG_CHARS)
QUEUE = Field("string", max_chars=MAX_QUEUE_CHARS)

JOB_EDIT = {
    "priority": PRIORITY,
    "queue": Field("string", max_chars=MAX_QUEUE_CHARS, text="move the job to this queue"),
    "add_tags": Field("strings", max_chars=MAX_TAG_CHARS, text="tags to add"),
    "remove_tags": Field("strings", max_chars=MAX_TAG_CHARS, text="tags to remove"),
}
"""``PATCH /api/jobs/{uuid}``: priority and queue while the job is queued, tags any time."""

LIMIT = {"maximum": Field("integer", 0, INT_BOUND, text="jobs that may run at once")}

CONFIG = {"value": Field("any", text="any JSON value; a known key takes a number > 0")}

_SCHEDULE = {
    "values": Field("object", text="the job's values"),
    "priority": PRIORITY,
    "tags": TAGS,
    "max_retries": Field("integer", 0, INT_BOUND),
    "ttr_seconds": Field("number", 0.001, MAX_SECONDS, text="time to run of each job"),
    "interval_seconds": Field("number", 0.001, MAX_SECONDS, nullable=True),
    "cron": Field("string", nullable=True, text="a cron line, UTC"),
    "backlog": Field("integer", 0, INT_BOUND, text="missed jobs to spawn (0: all)"),
    "queue": QUEUE,
    "type": Field("string", text="a registered job type"),
    "throttles": Field("strings"),
}

RECUR_UPDATE = dict(_SCHEDULE)
"""``PATCH /api/recurring/{id}``: the keys the store lets change (recurrence.UPDATABLE)."""

RECUR_CREATE = {
    **_SCHEDULE,
    "offset_seconds": Field("number", 0, MAX_SECONDS, text="first job due this long from now"),
    "id": Field("string", text="the id to give it (default: a new uuid)"),
}
"""``POST /api/recurring``: what :class:`zerog.recurrence.RecurSpec` takes."""
RECUR_REQUIRED = ("type", "queue")
