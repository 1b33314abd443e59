"""deferrable's debounce, kept in the store rather than in Redis keys.

deferrable reads and writes two Redis keys per call (the last push time, a pending delayed
push) from the producer. zerog decides in the put's own step, atomically on every backend
(:func:`zerog.flow.debounce_plan`): the first push of a call goes now, one within
``debounce_seconds`` of the last is delayed to the end of the window, and one made while a
delayed push is pending is skipped. ``debounce_always_delay`` always delays by the full window.
Calls are the same when their function, args and kwargs are.
"""

from __future__ import annotations

import json
from typing import Any

from zerog.deferrable import codec
from zerog.record import Debounce


class DebounceStrategy:
    """What a debounced push does (deferrable's names for the store's outcomes)."""

    PUSH_NOW = 1
    PUSH_DELAYED = 2
    SKIP = 3


OUTCOMES = {"put": DebounceStrategy.PUSH_NOW, "delayed": DebounceStrategy.PUSH_DELAYED}


def call_key(method: str, args: Any, kwargs: Any) -> str:
    """The key one call is debounced by: its function and its arguments, as JSON."""
    call = [method, codec.encode(list(args)), codec.encode(dict(kwargs))]
    return "deferrable:" + json.dumps(call, sort_keys=True, separators=(",", ":"))


def debounce_for(key: str, seconds: float, always_delay: bool) -> Debounce:
    """The store's debounce of a call."""
    return Debounce(key=key, seconds=seconds, always_delay=always_delay)


def strategy_of(outcome: str) -> int:
    """The deferrable strategy of what the store did with a debounced push."""
    return OUTCOMES.get(outcome, DebounceStrategy.SKIP)
