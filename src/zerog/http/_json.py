"""Parsing a request body as JSON without letting it hurt the server.

``json.loads`` alone would accept what later code cannot handle: ``NaN`` and ``Infinity``
(not JSON, and refused by the store), integers of thousands of digits (slow to convert, and
they overflow a float field), nesting deep enough to raise RecursionError in whatever walks
the value next, and lone surrogates from ``\\ud800`` escapes, which no UTF-8 encoder accepts.
Each of these is a 400 here instead of a 500 later.
"""

from __future__ import annotations

import json
import math
from typing import Any

from zerog.http._context import Limits


class BadJson(ValueError):
    """The body is not JSON, or is JSON the server will not take."""


def parse(body: bytes, limits: Limits) -> Any:
    """The JSON value of ``body``, checked against ``limits``."""

    def big_int(text: str) -> int:
        if len(text.lstrip("-")) > limits.max_int_digits:
            raise BadJson(f"an integer has more than {limits.max_int_digits} digits")
        return int(text)

    def finite(text: str) -> float:
        number = float(text)
        if not math.isfinite(number):
            raise BadJson(f"{text[:20]}... is out of range for a number")
        return number

    def constant(name: str) -> Any:
        raise BadJson(f"{name} is not a JSON value")

    try:
        text = body.decode("utf-8")
        value = json.loads(text, parse_int=big_int, parse_float=finite, parse_constant=constant)
    except BadJson:
        raise
    except UnicodeDecodeError:
        raise BadJson("it is not UTF-8") from None
    except RecursionError:
        raise BadJson(f"it is nested deeper than {limits.max_json_depth} levels") from None
    except ValueError as exc:
        raise BadJson(str(exc)) from None
    check(value, limits.max_json_depth)
    return value


def check(value: Any, max_depth: int) -> None:
    """Walk ``value`` without recursion: depth at most ``max_depth``, every string (keys
    too) encodable as UTF-8."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            _check_text(item)
            continue
        if not isinstance(item, dict | list):
            continue
        if depth > max_depth:
            raise BadJson(f"it is nested deeper than {max_depth} levels")
        if isinstance(item, dict):
            for key in item:
                _check_text(key)
            stack.extend((child, depth + 1) for child in item.values())
        else:
            stack.extend((child, depth + 1) for child in item)


def _check_text(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise BadJson("a string holds a lone surrogate (\\ud800-\\udfff)") from None
