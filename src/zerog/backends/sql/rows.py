"""Rows and records: a record is the ``doc`` JSON object plus the columns of its row."""

from __future__ import annotations

import json
import math
from typing import Any

from zerog.backends.sql.statements import COLUMNS
from zerog.backends.sql.unreadable import Unreadable, parse_doc, shown_unreadable
from zerog.model import Record


def record_of(row: tuple[Any, ...]) -> Record:
    """The record of a ``SELECT *`` row (seq first, doc last); one whose document cannot be
    read is shown as such (see :mod:`.unreadable`), never raised on a reader."""
    try:
        record = parse_doc(row[-1])
    except Unreadable as exc:
        return shown_unreadable(row, exc.reason)
    record.update(zip(COLUMNS, row[1:-1], strict=True))
    return with_flow_keys(record)


def with_flow_keys(record: Record) -> Record:
    """The record, with the keys schema version 3 added at their defaults when it was written
    before them: files are upgraded without rewriting every job."""
    if "tracked" not in record:
        for key, default in _FLOW_DEFAULTS:
            record.setdefault(key, json.loads(default))
    return record


_FLOW_DEFAULTS = (
    ("depends", "[]"),
    ("dependents", "[]"),
    ("blocked_by", "{}"),
    ("throttles", "[]"),
    ("unique_key", "null"),
    ("tracked", "false"),
    ("recurrence", "null"),
)


def columns_of(row: tuple[Any, ...]) -> Record:
    """Only the column keys of a ``SELECT *`` row, leaving its document unread."""
    return dict(zip(COLUMNS, row[1:-1], strict=True))


# One encoder for every write: json.dumps() with options builds a new one at each call.
_encode = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode
_SCALARS = {None: "null", True: "true", False: "false"}


def dumps(value: Any) -> str:
    """Compact JSON; the common scalars skip the encoder (their text is fixed, or repr)."""
    kind = type(value)
    if kind is float:
        return repr(value) if math.isfinite(value) else _encode(value)  # NaN: ValueError.
    if kind is int:
        return repr(value)
    if value is None or kind is bool:
        return _SCALARS[value]
    return _encode(value)


def loads_list(text: str | None) -> list[Any]:
    """A JSON array read from the database (NULL when the key is missing)."""
    return json.loads(text) if text else []


def loads_dict(text: str | None) -> dict[str, Any]:
    """A JSON object read from the database (NULL when the key is missing)."""
    return json.loads(text) if text else {}


class Encoded:
    """The JSON of a call's large values (a result, a checkpoint), made before its
    transaction so that no other writer waits on the encoding. Looked up by identity: the
    lifecycle functions store these very objects in the record."""

    def __init__(self, *values: Any) -> None:
        self._texts = {id(v): (v, dumps(v)) for v in values if isinstance(v, dict | list)}

    def get(self, value: Any) -> str:
        """The JSON of ``value``: made already, or now."""
        known = self._texts.get(id(value))
        return known[1] if known is not None and known[0] is value else dumps(value)
