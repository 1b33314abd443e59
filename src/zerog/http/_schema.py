"""A job class's marshmallow schema as JSON Schema (the dialect of OpenAPI 3.1).

It describes what a client should send: the JSON type of each field, its bounds (``Length``,
``Range``, ``OneOf``, ``Regexp``, ``Equal``), which fields are required, which may be null, and
whether unknown fields are refused (``additionalProperties``). marshmallow is more lenient than
the document says in places (an Integer field also takes ``"5"``); the document gives the
canonical form. Fields only dumped (``dump_only``) are not input and are left out.
"""

from __future__ import annotations

from typing import Any

import marshmallow
from marshmallow import fields, validate

JsonSchema = dict[str, Any]

FORMATS: list[tuple[type[fields.Field[Any]], JsonSchema]] = [
    # Subclasses before their bases: Email and URL are Strings, AwareDateTime a DateTime.
    (fields.Email, {"type": "string", "format": "email"}),
    (fields.URL, {"type": "string", "format": "uri"}),
    (fields.UUID, {"type": "string", "format": "uuid"}),
    (fields.NaiveDateTime, {"type": "string", "format": "date-time"}),
    (fields.AwareDateTime, {"type": "string", "format": "date-time"}),
    (fields.DateTime, {"type": "string", "format": "date-time"}),
    (fields.Date, {"type": "string", "format": "date"}),
    (fields.Time, {"type": "string", "format": "time"}),
    (fields.IPv4, {"type": "string", "format": "ipv4"}),
    (fields.IPv6, {"type": "string", "format": "ipv6"}),
    (fields.IP, {"type": "string"}),
    (fields.String, {"type": "string"}),
    (fields.Integer, {"type": "integer"}),
    (fields.TimeDelta, {"type": "number"}),
    (fields.Number, {"type": "number"}),  # Float and Decimal too.
    (fields.Boolean, {"type": "boolean"}),
]


def schema_of(schema: marshmallow.Schema) -> JsonSchema:
    """The JSON Schema of an object that ``schema.load`` accepts."""
    properties: dict[str, JsonSchema] = {}
    required: list[str] = []
    for name, field in schema.fields.items():
        if field.dump_only:
            continue
        key = field.data_key or name
        properties[key] = field_schema(field)
        if field.required:
            required.append(key)
    out: JsonSchema = {"type": "object", "properties": properties}
    if required:
        out["required"] = required
    out["additionalProperties"] = schema.unknown != marshmallow.RAISE
    return out


def field_schema(field: fields.Field[Any]) -> JsonSchema:
    """One field: its type, then its validators, then null if allowed, then its default."""
    out = _base(field)
    for validator in _validators(field):
        _apply(out, validator)
    if field.allow_none:
        out = {"anyOf": [out, {"type": "null"}]}
    default = field.load_default
    if default is not marshmallow.missing and not callable(default):
        out["default"] = _jsonable(default)
    if field.metadata.get("description"):
        out["description"] = str(field.metadata["description"])
    return out


def _base(field: fields.Field[Any]) -> JsonSchema:
    """The JSON type of a field; ``{}`` (anything) for what cannot be told."""
    container = _container(field)
    if container is not None:
        return container
    if isinstance(field, fields.Enum):
        return {"enum": [_jsonable(choice) for choice in _enum_choices(field)]}
    if isinstance(field, fields.Constant):
        return {"const": _jsonable(field.constant)}
    if isinstance(field, fields.Boolean):
        return _boolean(field)
    for kind, schema in FORMATS:
        if isinstance(field, kind):
            return dict(schema)
    return {}  # Raw, Function, Method and unknown custom fields take any JSON.


def _boolean(field: fields.Boolean) -> JsonSchema:
    """A Boolean field takes ``true``/``false`` and also the words and numbers marshmallow
    reads as them (``"yes"``, ``"on"``, ``1``, ...): the document says so, as the API does."""
    words = {value for value in (*field.truthy, *field.falsy) if not isinstance(value, bool)}
    if not words:
        return {"type": "boolean"}
    listed = sorted(words, key=lambda value: (not isinstance(value, str), str(value)))
    return {"anyOf": [{"type": "boolean"}, {"enum": listed}]}


def _container(field: fields.Field[Any]) -> JsonSchema | None:
    if isinstance(field, fields.Nested):
        nested = field.schema
        inner = schema_of(nested)
        return {"type": "array", "items": inner} if field.many else inner
    if isinstance(field, fields.List):
        return {"type": "array", "items": field_schema(field.inner)}
    if isinstance(field, fields.Tuple):
        items = [field_schema(f) for f in field.tuple_fields]
        return {"type": "array", "prefixItems": items, "items": False}
    if isinstance(field, fields.Mapping):
        values = field.value_field
        return {
            "type": "object",
            "additionalProperties": True if values is None else field_schema(values),
        }
    return None


def _enum_choices(field: fields.Enum[Any]) -> list[Any]:
    if field.by_value:
        return [member.value for member in field.enum]
    return [member.name for member in field.enum]


def _validators(field: fields.Field[Any]) -> list[Any]:
    """The field's validators, with ``And`` opened up."""
    out: list[Any] = []
    pending = list(field.validators)
    while pending:
        validator = pending.pop(0)
        if isinstance(validator, validate.And):
            pending[:0] = list(validator.validators)
        else:
            out.append(validator)
    return out


def _apply(out: JsonSchema, validator: Any) -> None:
    """Narrow ``out`` by one validator (unknown validators are left to the server)."""
    if isinstance(validator, validate.Length):
        _length(out, validator)
    elif isinstance(validator, validate.Range):
        _range(out, validator)
    elif isinstance(validator, validate.OneOf):
        out["enum"] = [_jsonable(choice) for choice in validator.choices]
    elif isinstance(validator, validate.Equal):
        out["const"] = _jsonable(validator.comparable)
    elif isinstance(validator, validate.Regexp):
        out["pattern"] = validator.regex.pattern


def _length(out: JsonSchema, validator: validate.Length) -> None:
    kind = out.get("type")
    words = {"array": "Items", "object": "Properties"}.get(str(kind), "Length")
    if validator.equal is not None:
        out[f"min{words}"] = out[f"max{words}"] = validator.equal
        return
    if validator.min is not None:
        out[f"min{words}"] = validator.min
    if validator.max is not None:
        out[f"max{words}"] = validator.max


def _range(out: JsonSchema, validator: validate.Range) -> None:
    if validator.min is not None:
        key = "minimum" if validator.min_inclusive else "exclusiveMinimum"
        out[key] = validator.min
    if validator.max is not None:
        key = "maximum" if validator.max_inclusive else "exclusiveMaximum"
        out[key] = validator.max


def _jsonable(value: Any) -> Any:
    """A default or choice as JSON can show it (anything else as its text)."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return str(value)
