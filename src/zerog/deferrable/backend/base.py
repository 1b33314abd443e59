"""deferrable's backends and factories: a factory per store, a backend per group.

``create_backend_for_group(group)`` gives a backend with ``queue`` (zerog queue
``deferrable:<group>``), ``error_queue`` (``deferrable:<group>_errors``) and ``group``; the
factories of :mod:`zerog.deferrable.backend` differ only in the store they open.
"""

from __future__ import annotations

from typing import Any

from zerog.deferrable.queue.base import Queue
from zerog.store import Store

QUEUE_PREFIX = "deferrable"


class Backend:
    """A group's main queue and error queue."""

    def __init__(self, group: str | None, queue: Queue, error_queue: Queue) -> None:
        self.group = group
        self.queue = queue
        self.error_queue = error_queue


class BackendFactory:
    """Makes one Backend per group, all sharing one store."""

    queue_class: type[Queue] = Queue
    error_queue_class: type[Queue] = Queue
    backend_class: type[Backend] = Backend

    def __init__(
        self, store: Store, ttr_seconds: float | None = None, wait_seconds: float = 0.0
    ) -> None:
        self.store = store
        self.ttr_seconds = ttr_seconds
        self.wait_seconds = wait_seconds

    @staticmethod
    def _queue_name(group: str | None) -> str:
        return f"{QUEUE_PREFIX}:{group}" if group else QUEUE_PREFIX

    def create_backend_for_group(self, group: str | None, *args: Any, **kwargs: Any) -> Backend:
        """The backend of ``group``."""
        return self._create_backend_for_group(group)

    def _create_backend_for_group(self, group: str | None) -> Backend:
        name = self._queue_name(group)
        options = (self.ttr_seconds, self.wait_seconds)
        queue = self.queue_class(self.store, name, *options)
        error_queue = self.error_queue_class(self.store, f"{name}_errors", *options)
        return self.backend_class(group, queue, error_queue)
