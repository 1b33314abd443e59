"""The Store's queues part: pausing queues, and the registry of live workers."""

from __future__ import annotations

from typing import Any

from zerog.backends.contract import Queues as QueuesRole
from zerog.store._base import Facade

WORKER_MAX_AGE_SECONDS = 30.0  # a worker not seen for this long is gone.


class Queues(Facade):
    """Queue pauses and worker entries (the backend's queues role)."""

    def pause_queue(self, queue: str) -> None:
        """Workers stop reserving from ``queue``; its jobs stay, running ones go on."""
        self._role(QueuesRole).pause_queue(queue, True)
        self._audited("pause-queue", queue)
        self._changed("queue-paused", queue, "paused")

    def resume_queue(self, queue: str) -> None:
        """Workers reserve from ``queue`` again."""
        self._role(QueuesRole).pause_queue(queue, False)
        self._audited("resume-queue", queue)
        self._changed("queue-resumed", queue, "waiting")
        self.wake()

    def paused_queues(self) -> frozenset[str]:
        """The queues paused now."""
        return self._role(QueuesRole).paused_queues()

    def register_worker(self, entry: dict[str, Any]) -> None:
        """Add or refresh a worker's entry in the registry (see Queues.register_worker)."""
        self._role(QueuesRole).register_worker(entry)

    def unregister_worker(self, worker_id: str) -> None:
        """Remove a worker's entry: it stopped, or its supervisor saw it die."""
        self._role(QueuesRole).unregister_worker(worker_id)

    def workers(self, max_age_seconds: float | None = None) -> list[dict[str, Any]]:
        """Live workers, seen within ``max_age_seconds`` (default
        :data:`WORKER_MAX_AGE_SECONDS`)."""
        age = max_age_seconds if max_age_seconds is not None else WORKER_MAX_AGE_SECONDS
        return self._role(QueuesRole).workers(age)
