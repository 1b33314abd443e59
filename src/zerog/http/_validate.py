"""An enqueue's body checked against the very document the API publishes for its job type.

The job's marshmallow schema coerces some values the JSON Schema calls invalid (an Integer
field takes ``"5"``, a Float ``"1.5"``): that is the seeds' validation, kept for Python callers
(``make_base_job``). Over HTTP the document is the contract, so a body is first checked
against the JSON Schema built from that marshmallow schema (:func:`._schema.schema_of`), then
loaded by marshmallow as before: what the document refuses, the API refuses, with the same
``400 {"errors": {field: [message]}}``.
"""

from __future__ import annotations

import functools
from typing import Any

from jsonschema import Draft202012Validator, ValidationError

from zerog import registry
from zerog.errors import JobValidationError
from zerog.http._schema import schema_of

MAX_MESSAGES = 10  # per field: a deeply wrong body would otherwise answer with a book.


@functools.lru_cache(maxsize=256)
def _validator(job_type: str, schema_class: type) -> Draft202012Validator:
    """The validator of a job type's values (keyed by its schema class too: a reloaded job
    module brings a new one)."""
    return Draft202012Validator(schema_of(schema_class()))


def check_values(job_type: str, values: dict[str, Any]) -> None:
    """JobValidationError naming each field whose value the published document refuses."""
    cls = registry.job_class(job_type)
    validator = _validator(job_type, type(cls.schema()))
    messages: dict[str, list[str]] = {}
    for error in validator.iter_errors(values):
        for field, message in _by_field(error):
            found = messages.setdefault(field, [])
            if len(found) < MAX_MESSAGES:
                found.append(message)
    if messages:
        raise JobValidationError(messages, job_type)


def _by_field(error: ValidationError) -> list[tuple[str, str]]:
    """The field(s) an error is about, with its message; a missing or an unknown field is
    named as marshmallow names it, since the two validations answer alike."""
    if error.path:
        return [(str(error.path[0]), error.message)]
    instance = error.instance if isinstance(error.instance, dict) else {}
    if error.validator == "required":
        required: list[str] = list(error.validator_value)  # type: ignore[arg-type]
        return [
            (name, "Missing data for required field.") for name in required if name not in instance
        ]
    if error.validator == "additionalProperties":
        schema = error.schema if isinstance(error.schema, dict) else {}
        known = set(schema.get("properties", {}))
        return [(name, "Unknown field.") for name in instance if name not in known]
    return [("_schema", error.message)]
