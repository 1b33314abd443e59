"""What a reserve must know of recurrences and limits before it takes entries, without asking
the store at every call.

beanstalkd knows neither. Before reserving from a queue's tube, its due recurrences must
spawn their jobs (a store step), and a queue whose own limit is full is not worth reserving
from. Both are rare, and a busy worker reserves thousands of times a second, so each process
keeps what the store said, for a second, and asks again only when it may matter: at the next
recurrence's time by the store's clock, or when the process itself changed a recurrence or a
limit. Another process's change is seen within :data:`REFRESH_SECONDS`; until then the store's
own claim still enforces every limit, so the cache only saves work, it never decides.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from zerog import flow

REFRESH_SECONDS = 1.0


class RecurWatch:
    """When each queue's next recurrence is due, as the store last said."""

    def __init__(self) -> None:
        self._next: dict[str, float] = {}
        self._stuck: set[str] = set()
        self._refresh_at = 0.0

    def due(self, queue: str, now: float, read: Callable[[], dict[str, float]]) -> bool:
        """Whether ``queue``'s next recurrence is due at ``now``."""
        if time.monotonic() >= self._refresh_at:
            self.known(read())
        return self._next.get(queue, math.inf) <= now and queue not in self._stuck

    def known(self, next_at: dict[str, float]) -> None:
        """The store said when each queue's next recurrence is due."""
        self._next = dict(next_at)
        self._stuck.clear()
        self._refresh_at = time.monotonic() + REFRESH_SECONDS

    def spawned(self, queue: str, next_at: dict[str, float], now: float) -> None:
        """The store spawned what ``queue`` owed; if it still owes (it is paused), it is not
        asked again before the next refresh."""
        self.known(next_at)
        if next_at.get(queue, math.inf) <= now:
            self._stuck.add(queue)

    def forget(self) -> None:
        """A recurrence changed here: ask the store at the next reserve."""
        self._refresh_at = 0.0


class LimitWatch:
    """The limits that are set, as the store last said."""

    def __init__(self) -> None:
        self._names: frozenset[str] = frozenset()
        self._refresh_at = 0.0

    def limited(self, queue: str, read: Callable[[], dict[str, int]]) -> bool:
        """Whether ``queue`` has a limit of its own."""
        if time.monotonic() >= self._refresh_at:
            self._names = frozenset(read())
            self._refresh_at = time.monotonic() + REFRESH_SECONDS
        return bool(self._names) and flow.QUEUE_LIMIT + queue in self._names

    def forget(self) -> None:
        """A limit changed here: ask the store at the next reserve."""
        self._refresh_at = 0.0
