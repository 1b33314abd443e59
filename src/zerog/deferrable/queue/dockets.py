"""deferrable's Dockets queues, on zerog's Redis store.

deferrable's Dockets backend kept each group's queue in Redis, its error queue in a Redis hash.
zerog's ``redis://`` store holds both as zerog queues (``deferrable:<group>`` and
``deferrable:<group>_errors``), so the classes keep their names and deferrable's interface:
the error queue is a FIFO queue like the main one (Dockets' was a hash, not ordered).
"""

from __future__ import annotations

from zerog.deferrable.queue.base import Queue


class DocketsQueue(Queue):
    """A group's main queue on the Redis store."""

    def make_error_queue(self) -> DocketsErrorQueue:
        """The error queue that goes with this queue."""
        return DocketsErrorQueue(
            self.store, f"{self.name}_errors", self.ttr_seconds, self.wait_seconds
        )


class DocketsErrorQueue(Queue):
    """A group's error queue on the Redis store."""
