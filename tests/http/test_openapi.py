"""The OpenAPI document: generated from the registered job types' marshmallow schemas."""

from __future__ import annotations

import enum

import pytest
from marshmallow import Schema, ValidationError, fields, validate

from tests.http.conftest import Serve, memory_store
from tests.http.http_jobs import RICH_TYPE, SLOW_TYPE
from zerog.http._schema import field_schema, schema_of
from zerog.http.openapi import build


def test_document_has_every_route_and_a_path_per_job_type(serve: Serve) -> None:
    api = serve(memory_store())
    reply = api.get("/api/openapi.json")
    assert reply.status == 200
    document = reply.json()
    assert document["openapi"] == "3.1.0"
    paths = document["paths"]
    for path in (
        "/api/jobs",
        "/api/jobs/{uuid}",
        "/api/jobs/{uuid}/stream",
        "/api/jobs/{uuid}/cancel",
        "/api/jobs/{uuid}/retry",
        "/api/jobs/{uuid}/pause",
        "/api/jobs/{uuid}/resume",
        "/api/jobs/{uuid}/messages",
        "/api/queues",
        "/api/queues/{name}",
        "/api/queues/{name}/pause",
        "/api/queues/{name}/resume",
        "/api/queues/{name}/kick",
        "/api/workers",
        "/api/openapi.json",
        "/metrics",
        "/healthz",
        "/readyz",
        f"/api/jobs/{RICH_TYPE}",
        f"/api/jobs/{SLOW_TYPE}",
        "/api/jobs/example_report",
        "/api/jobs/my_job_type",
    ):
        assert path in paths, path
    body = paths[f"/api/jobs/{RICH_TYPE}"]["post"]["requestBody"]["content"]["application/json"]
    schema = body["schema"]
    assert schema["required"] == ["title"]
    assert schema["additionalProperties"] is False
    assert schema["properties"]["title"] == {"type": "string", "minLength": 1, "maxLength": 50}
    assert "security" not in document


def test_document_declares_the_token_and_a_prefix() -> None:
    document = build(prefix="/zerog", token=True)
    assert document["security"] == [{"bearer": []}]
    assert document["paths"]["/zerog/healthz"]["get"]["security"] == []
    assert all(path.startswith("/zerog/") for path in document["paths"])


class Color(enum.Enum):
    RED = "red"


class Inner(Schema):
    level = fields.Integer(validate=validate.Range(min=0, max=9, max_inclusive=False))


def test_a_boolean_field_lists_every_word_the_api_takes_for_it() -> None:
    # The document says what marshmallow reads as true or false ("yes", "on", 1, ...),
    field = fields.Boolean()
    listed = field_schema(field)["anyOf"][1]["enum"]
    assert {"yes", "on", "0", 1, 0} <= set(listed)
    # and the API takes every one of them, and refuses what it does not list.
    for word in listed:
        assert field.deserialize(word) in (True, False)
    with pytest.raises(ValidationError):
        field.deserialize("maybe")


def test_field_conversion() -> None:
    cases = [
        (fields.String(), {"type": "string"}),
        (fields.Email(), {"type": "string", "format": "email"}),
        (fields.UUID(), {"type": "string", "format": "uuid"}),
        (fields.DateTime(), {"type": "string", "format": "date-time"}),
        (fields.Integer(validate=validate.Range(min=1)), {"type": "integer", "minimum": 1}),
        (fields.Float(), {"type": "number"}),
        (fields.Boolean(truthy={True}, falsy={False}), {"type": "boolean"}),
        (fields.Raw(), {}),
        (fields.Enum(Color), {"enum": ["RED"]}),
        (fields.Enum(Color, by_value=True), {"enum": ["red"]}),
        (
            fields.String(validate=validate.OneOf(["a", "b"])),
            {"type": "string", "enum": ["a", "b"]},
        ),
        (fields.String(validate=validate.Regexp(r"^x+$")), {"type": "string", "pattern": "^x+$"}),
        (
            fields.List(fields.Integer(), validate=validate.Length(max=3)),
            {"type": "array", "items": {"type": "integer"}, "maxItems": 3},
        ),
        (
            fields.Dict(values=fields.String()),
            {"type": "object", "additionalProperties": {"type": "string"}},
        ),
        (
            fields.String(allow_none=True),
            {"anyOf": [{"type": "string"}, {"type": "null"}]},
        ),
        (fields.Integer(load_default=5), {"type": "integer", "default": 5}),
        (
            fields.Tuple((fields.String(), fields.Integer())),
            {
                "type": "array",
                "prefixItems": [{"type": "string"}, {"type": "integer"}],
                "items": False,
            },
        ),
    ]
    for field, expected in cases:
        assert field_schema(field) == expected, field


def test_nested_and_data_keys_and_dump_only() -> None:
    class Outer(Schema):
        inner = fields.Nested(Inner, required=True)
        many = fields.Nested(Inner, many=True)
        renamed = fields.String(data_key="otherName")
        shown = fields.String(dump_only=True)

    schema = schema_of(Outer())
    assert schema["required"] == ["inner"]
    assert set(schema["properties"]) == {"inner", "many", "otherName"}
    level = schema["properties"]["inner"]["properties"]["level"]
    assert level == {"type": "integer", "minimum": 0, "exclusiveMaximum": 9}
    assert schema["properties"]["many"]["type"] == "array"
