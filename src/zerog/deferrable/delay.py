"""deferrable's delay limit, and time options that may be numbers or callables.

deferrable caps every delay (``delay_seconds``, ``debounce_seconds``, a retry's backoff) at 15
minutes; zerog keeps the cap so that code written for deferrable behaves the same.
"""

from __future__ import annotations

from collections.abc import Callable

MAXIMUM_DELAY_SECONDS = 900  # deferrable's cap on delay, debounce and backoff.

TimeOption = float | Callable[[], float]
"""A number of seconds, or a callable giving it at each ``.later()``."""


def seconds(option: TimeOption | None) -> float:
    """A time option's value now: callables are evaluated at each call."""
    if option is None:
        return 0.0
    return float(option() if callable(option) else option)
