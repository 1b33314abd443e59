"""The queues-and-workers role: pausing a queue, and the registry of live workers."""

from __future__ import annotations

import abc
from typing import Any

STALE_WORKER_SECONDS = 3600.0  # registry entries unseen this long are deleted at registration.


class Queues(abc.ABC):
    """Queues that can be paused, and the workers that serve them."""

    @abc.abstractmethod
    def pause_queue(self, queue: str, paused: bool) -> None:
        """Stop (``paused``) or restart reserving from ``queue``; its jobs stay where they
        are, and running ones go on (they may heartbeat and settle). Idempotent; a queue with
        no job yet can be paused. Claims skip a paused queue from the next call on."""

    @abc.abstractmethod
    def paused_queues(self) -> frozenset[str]:
        """The queues that are paused now (empty when none is)."""

    @abc.abstractmethod
    def register_worker(self, worker: dict[str, Any]) -> None:
        """Insert or refresh a worker's entry (``id``, ``host``, ``pid``, ``queues``,
        ``jobs``: the uuids it runs now, ``version``, ``started_at``; other JSON keys are kept
        as given), stamping ``last_seen`` with the backend's clock. Called at start and by
        the worker's heartbeat thread. Raises ValueError or TypeError if it is not JSON."""

    @abc.abstractmethod
    def unregister_worker(self, worker_id: str) -> None:
        """Remove a worker's entry (it stopped cleanly, or its supervisor saw it die).
        Idempotent: an unknown id is not an error."""

    @abc.abstractmethod
    def workers(self, max_age_seconds: float) -> list[dict[str, Any]]:
        """Workers seen within ``max_age_seconds`` (entries as registered, plus
        ``last_seen``), oldest start first. A read: it changes nothing. Entries unseen for
        :data:`STALE_WORKER_SECONDS` are deleted by :meth:`register_worker` (their process is
        gone: its jobs' leases expire and are rescued)."""
