"""Tagged JSON, deferrable's pickling replaced: values round-trip, nothing is pickled."""

from __future__ import annotations

import datetime as dt
import decimal
import json
import uuid

import pytest

from zerog.deferrable import codec, pickling
from zerog.errors import NotSerializable

VALUES = [
    uuid.uuid1(),
    dt.datetime(2026, 12, 7, 17, 0, 1, 5, tzinfo=dt.UTC),
    dt.datetime(2026, 12, 7, 17, 0),
    dt.date(2026, 12, 7),
    dt.time(17, 0, 1),
    dt.timedelta(days=1, seconds=3.5),
    decimal.Decimal("1.10"),
    {1, 2, 3},
    frozenset({"a", "b"}),
    (1, "two", (3.0, None)),
    b"\x00\xffbytes",
    {1: "int key", (2, 3): "tuple key"},
    {"__uuid__": "a user dict that looks like a tag"},
    {"nested": [uuid.UUID(int=7), {"when": dt.date(2020, 1, 1)}]},
    ["plain", 1, 2.5, True, None, {"json": "stays json"}],
]


@pytest.mark.parametrize("value", VALUES, ids=lambda v: type(v).__name__)
def test_values_round_trip_through_json_text(value):
    text = codec.dumps(value)
    assert json.loads(text) is not None or text == "null"  # it is JSON text...
    assert codec.loads(text) == value  # ...that gives the same value back.
    assert type(codec.loads(text)) is type(value)


def test_plain_json_is_stored_as_it_is():
    assert codec.encode({"a": [1, "b", None]}) == {"a": [1, "b", None]}
    assert codec.encode((1, 2)) == {"__tuple__": [1, 2]}


def test_what_json_cannot_hold_is_refused_as_a_type_error_naming_it():
    with pytest.raises(NotSerializable, match=r"value\['obj'\] \(object\)"):
        codec.dumps({"obj": object()})
    with pytest.raises(TypeError):  # as json.dumps would raise.
        codec.encode([lambda: None])
    with pytest.raises(NotSerializable, match="nan"):
        codec.encode(float("nan"))


def test_pickling_keeps_its_names_and_pickles_nothing():
    assert pickling.loads(pickling.dumps((1, uuid.UUID(int=1)))) == (1, uuid.UUID(int=1))
    assert pickling.load(None) is None
    item = pickling.build_later_item(test_plain_json_is_stored_as_it_is, "a", b=(1, 2))
    method, args, kwargs = pickling.unpickle_method_call(item)
    assert (method, args, kwargs) == (test_plain_json_is_stored_as_it_is, ("a",), {"b": (1, 2)})
    assert "test_plain_json_is_stored_as_it_is" in pickling.pretty_unpickle(item)
