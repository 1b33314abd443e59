"""deferrable's in-memory backend, on a zerog ``memory://`` store of its own."""

from __future__ import annotations

from zerog.deferrable.backend.base import Backend, BackendFactory
from zerog.deferrable.queue.memory import InMemoryErrorQueue, InMemoryQueue
from zerog.store import open_store


class InMemoryBackend(Backend):
    """A group's in-memory queues."""


class InMemoryBackendFactory(BackendFactory):
    """A store in this process's memory (tests, a single process); ``timeout`` is how long
    ``pop`` waits for an item when none is ready (deferrable's)."""

    queue_class = InMemoryQueue
    error_queue_class = InMemoryErrorQueue
    backend_class = InMemoryBackend

    def __init__(self, timeout: float | None = None) -> None:
        super().__init__(open_store("memory://"), wait_seconds=float(timeout or 0))
