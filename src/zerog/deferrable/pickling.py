"""deferrable's ``pickling`` module, by name only: nothing here pickles.

Code that imported deferrable's helpers keeps working; every value is tagged JSON
(:mod:`zerog.deferrable.codec`) and a function travels as its ``module:qualname`` path. A
value tagged JSON cannot hold raises NotSerializable (a TypeError) instead of being pickled.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from zerog.deferrable import calls, codec

dumps = codec.dumps
loads = codec.loads
dump = codec.dumps
load = codec.loads


def build_later_item(method: Callable[..., Any], *args: Any, **kwargs: Any) -> dict[str, Any]:
    """The part of a deferred item that names the call: ``method``, ``args``, ``kwargs``."""
    path = calls.function_path(method)
    calls.check_importable(path)
    calls.check_arguments(path, args, kwargs)
    return {"method": path, "args": list(args), "kwargs": dict(kwargs)}


def unpickle_method_call(item: dict[str, Any]) -> tuple[Callable[..., Any], tuple[Any, ...], Any]:
    """The function, args (a tuple) and kwargs (a dict) an item calls."""
    args = item.get("args") or ()
    kwargs = item.get("kwargs") or {}
    if isinstance(args, str):  # an item whose call was written as tagged JSON text.
        args = codec.loads(args)
    if isinstance(kwargs, str):
        kwargs = codec.loads(kwargs)
    return calls.resolve(item["method"]), tuple(args), dict(kwargs)


def pretty_unpickle(item: dict[str, Any]) -> str:
    """A one-line description of an item's call, for logs."""
    _method, args, kwargs = unpickle_method_call(item)
    return str({"method": item["method"], "args": str(args), "kwargs": str(kwargs)})
