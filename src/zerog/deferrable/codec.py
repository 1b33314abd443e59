"""Tagged JSON: what deferrable pickled (arguments, metadata, items), zerog stores as JSON.

deferrable pickled each call, so any Python value could travel; zerog never pickles (a pickle
runs code when it is read, and ties the store to one Python's classes). The values deferred
code passes most besides plain JSON round-trip here by a tag, a one-key object:

    {"__tuple__": [...]}      {"__set__": [...]}        {"__frozenset__": [...]}
    {"__uuid__": "hex"}       {"__datetime__": "iso"}   {"__date__": "iso"}
    {"__time__": "iso"}       {"__timedelta__": secs}   {"__decimal__": "text"}
    {"__bytes__": "base64"}   {"__dict__": [[key, value], ...]}

``__dict__`` carries a dict whose keys are not all strings, or that looks like a tag itself, so
no user value is ever read back as something else. Anything else (an object, a function, NaN)
raises :class:`~zerog.errors.NotSerializable`, a TypeError like ``json.dumps`` raises, saying
which value and what to pass instead.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import json
import math
import uuid
from collections.abc import Callable
from typing import Any

from zerog.errors import NotSerializable

TAGS = (
    "__tuple__", "__set__", "__frozenset__", "__uuid__", "__datetime__", "__date__",
    "__time__", "__timedelta__", "__decimal__", "__bytes__", "__dict__",
)  # fmt: skip


def encode(value: Any, where: str = "value") -> Any:
    """``value`` as plain JSON data, its non-JSON parts tagged; NotSerializable names
    ``where`` when a part cannot be."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise NotSerializable(f"{where} is {value!r}, which JSON cannot hold")
        return value
    if isinstance(value, list):
        return [encode(item, f"{where}[{n}]") for n, item in enumerate(value)]
    if isinstance(value, dict):
        return _encode_dict(value, where)
    for kind, tag, convert in _ENCODERS:
        if isinstance(value, kind):
            return {tag: convert(value, where)}
    raise NotSerializable(
        f"{where} ({type(value).__name__}) cannot be stored as JSON: pass ids or plain data "
        "(str, numbers, lists, dicts; tuples, sets, UUIDs, dates and decimals are tagged)"
    )


def _encode_dict(value: dict[Any, Any], where: str) -> dict[str, Any]:
    if all(isinstance(key, str) for key in value) and not _looks_tagged(value):
        return {key: encode(item, f"{where}[{key!r}]") for key, item in value.items()}
    pairs = [[encode(k, f"{where} key"), encode(v, f"{where}[{k!r}]")] for k, v in value.items()]
    return {"__dict__": pairs}


def _looks_tagged(value: dict[str, Any]) -> bool:
    return len(value) == 1 and next(iter(value)) in TAGS


def _items(value: Any, where: str) -> list[Any]:
    return [encode(item, f"{where} item") for item in value]


_ENCODERS: list[tuple[type | tuple[type, ...], str, Callable[[Any, str], Any]]] = [
    (tuple, "__tuple__", _items),
    (frozenset, "__frozenset__", lambda v, w: _items(sorted(v, key=repr), w)),
    (set, "__set__", lambda v, w: _items(sorted(v, key=repr), w)),
    (uuid.UUID, "__uuid__", lambda v, w: v.hex),
    (dt.datetime, "__datetime__", lambda v, w: v.isoformat()),
    (dt.date, "__date__", lambda v, w: v.isoformat()),
    (dt.time, "__time__", lambda v, w: v.isoformat()),
    (dt.timedelta, "__timedelta__", lambda v, w: v.total_seconds()),
    (decimal.Decimal, "__decimal__", lambda v, w: str(v)),
    ((bytes, bytearray), "__bytes__", lambda v, w: base64.b64encode(bytes(v)).decode("ascii")),
]
"""Checked in order: datetime before date, since a datetime is a date too."""

_DECODERS: dict[str, Callable[[Any], Any]] = {
    "__tuple__": lambda v: tuple(decode(item) for item in v),
    "__set__": lambda v: {decode(item) for item in v},
    "__frozenset__": lambda v: frozenset(decode(item) for item in v),
    "__uuid__": uuid.UUID,
    "__datetime__": dt.datetime.fromisoformat,
    "__date__": dt.date.fromisoformat,
    "__time__": dt.time.fromisoformat,
    "__timedelta__": lambda v: dt.timedelta(seconds=v),
    "__decimal__": decimal.Decimal,
    "__bytes__": lambda v: base64.b64decode(v.encode("ascii")),
    "__dict__": lambda v: {decode(key): decode(item) for key, item in v},
}


def decode(data: Any) -> Any:
    """The value :func:`encode` gave ``data`` for."""
    if isinstance(data, list):
        return [decode(item) for item in data]
    if isinstance(data, dict):
        if _looks_tagged(data):
            tag, inner = next(iter(data.items()))
            return _DECODERS[tag](inner)
        return {key: decode(item) for key, item in data.items()}
    return data


def dumps(value: Any, where: str = "value") -> str:
    """``value`` as tagged JSON text."""
    return json.dumps(encode(value, where), separators=(",", ":"), ensure_ascii=False)


def loads(text: str | None) -> Any:
    """The value of tagged JSON text (None stays None, as deferrable's ``loads``)."""
    if text is None:
        return None
    return decode(json.loads(text))
