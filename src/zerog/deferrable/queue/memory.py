"""deferrable's in-memory queues, on a zerog ``memory://`` store.

deferrable's ``InMemoryQueue`` kept a stdlib queue of ready items (``queue``) and a priority
queue of delayed ones (``delay_queue``). Here both are views of the store's jobs: ``queue``
counts the waiting items, ``delay_queue`` the scheduled ones, and ``_move_from_delay_queue``
makes the due scheduled items waiting. Unlike deferrable's, a popped item is in flight until
completed (its lease expires and it comes back if it never is), as on every zerog store.
"""

from __future__ import annotations

from typing import Any

from zerog.deferrable.queue.base import Queue
from zerog.model import Change, State


class QueueView:
    """The items of one state of a queue, with the ``qsize`` of a stdlib queue."""

    def __init__(self, queue: Queue, state: State) -> None:
        self._queue = queue
        self._state = state

    def qsize(self) -> int:
        """How many items are in this state."""
        return self._queue.store.counts().get(self._queue.name, {}).get(self._state, 0)

    def empty(self) -> bool:
        """Whether there are none."""
        return self.qsize() == 0


class InMemoryQueue(Queue):
    """A queue of a ``memory://`` store (tests, a single process)."""

    @property
    def queue(self) -> QueueView:
        """The items ready to pop."""
        return QueueView(self, State.WAITING)

    @property
    def delay_queue(self) -> QueueView:
        """The items delayed to a later time."""
        return QueueView(self, State.SCHEDULED)

    def _push_to_delay_queue(self, item: Any, delay_seconds: float) -> str:
        """Queue an item after ``delay_seconds``."""
        return self.store.enqueue(self._spec(item, float(delay_seconds)))

    def _move_from_delay_queue(self) -> int:
        """Make the delayed items whose time came ready; returns how many moved."""
        now = self.store.clock()
        records = self.store.list(state=State.SCHEDULED.value, queue=self.name, limit=500).records
        due = [record["uuid"] for record in records if record["ready_at"] <= now]
        for uuid in due:
            self.store.alter(uuid, Change(delay_seconds=0))
        return len(due)

    def pop(self) -> tuple[Any, Any]:
        """The next item, the due delayed ones made ready first (as deferrable's)."""
        self._move_from_delay_queue()
        return super().pop()


class InMemoryErrorQueue(InMemoryQueue):
    """The error queue of an in-memory backend."""
