"""deferrable's TTL: an item not started within ``ttl_seconds`` of its push is dropped.

The consumer decides, not the store: a popped item whose TTL passed is not run, but its
event consumers hear ``on_expire`` and then ``on_complete`` (as deferrable's do). A store-side
TTL would drop it silently before any consumer saw it.
"""

from __future__ import annotations

import time
from typing import Any


def add_ttl_metadata_to_item(
    item: dict[str, Any], ttl_seconds: float, now: float | None = None
) -> None:
    """Stamp the item with its TTL and the time it was queued (``now``: the store's clock,
    else the wall clock)."""
    item["ttl_seconds"] = ttl_seconds
    item["item_queued_timestamp"] = time.time() if now is None else now


def item_is_expired(item: dict[str, Any], now: float | None = None) -> bool:
    """Whether more than the item's TTL passed since it was queued (no TTL: never)."""
    ttl_seconds = item.get("ttl_seconds")
    if not ttl_seconds:
        return False
    queued = float(item.get("item_queued_timestamp") or item.get("first_push_time") or 0)
    return (time.time() if now is None else now) - queued > float(ttl_seconds)
