"""deferrable's exponential backoff between the attempts of a retried item.

An item that raised one of its ``error_classes`` and has attempts left goes back to the queue
with ``attempts`` one higher and a delay of ``BACKOFF_CONSTANT + BACKOFF_BASE ** attempts``
seconds, at most :data:`~zerog.deferrable.delay.MAXIMUM_DELAY_SECONDS`: 4 s before the second
attempt, then 6, 10, 18, ... With ``use_exponential_backoff=False`` it goes back at once.
"""

from __future__ import annotations

import time
from typing import Any

from zerog.deferrable.delay import MAXIMUM_DELAY_SECONDS

BACKOFF_CONSTANT = 2
BACKOFF_BASE = 2


def backoff_seconds(attempts: int) -> float:
    """The delay before the attempt that follows ``attempts`` failed ones (1-based)."""
    return float(min(BACKOFF_CONSTANT + BACKOFF_BASE ** min(attempts, 64), MAXIMUM_DELAY_SECONDS))


def apply_exponential_backoff_options(item: dict[str, Any], use_exponential_backoff: bool) -> None:
    """Record on the item whether its retries back off."""
    item["use_exponential_backoff"] = use_exponential_backoff


def apply_exponential_backoff_delay(item: dict[str, Any]) -> None:
    """Set the item's ``delay`` for its next attempt (``item['attempts']`` already counts the
    failed ones); without backoff the item has no delay. ``last_push_time`` moves by the
    delay, so that response-time metrics do not count the backoff."""
    if not item.get("use_exponential_backoff"):
        item["last_push_time"] = time.time()
        item.pop("delay", None)
        return
    delay = backoff_seconds(int(item["attempts"]))
    item["last_push_time"] = time.time() + delay
    item["delay"] = delay
