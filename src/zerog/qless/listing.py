"""Reading many jobs through the store's pages, for qless's lists and counts.

The store lists jobs newest first, a page at a time; qless's readers want offsets, totals and
other orders, so they walk every page of the jobs they filter for. That is fine for queues of
thousands of jobs; a dashboard over millions should use the store's pages directly.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, TypeVar

from zerog.model import Record
from zerog.store import MAX_PAGE, Store

T = TypeVar("T")

EMPTY: dict[str, Any] = {}
"""What qless returns for an empty list where qless-core's Lua JSON encoder writes an empty
table as ``{}`` (top tags, tagged jids, queue and worker counts, expired tracked jobs)."""


def lua_list(items: list[T]) -> list[T] | dict[str, Any]:
    """``items``, or ``{}`` when there are none, as qless returns it for these lists."""
    return items if items else {}


def all_records(store: Store, **filters: Any) -> Iterator[Record]:
    """Every job matching ``filters`` (Store.list's), newest first."""
    cursor = None
    while True:
        page = store.list(limit=MAX_PAGE, cursor=cursor, **filters)
        yield from page.records
        if page.cursor is None:
            return
        cursor = page.cursor


def window(items: list[T], offset: int, count: int) -> list[T]:
    """``count`` items from ``offset`` on (qless's paging arguments)."""
    start = max(0, int(offset))
    return items[start : start + max(0, int(count))]


def is_stalled(record: Record, now: float) -> bool:
    """A running job whose lock expired: its worker is late or gone (qless's stalled)."""
    expires = record.get("lease_expires_at")
    return record["state"] == "running" and expires is not None and expires <= now
