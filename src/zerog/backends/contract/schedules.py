"""The schedules role: recurring jobs, spawned by the claims of their queue."""

from __future__ import annotations

import abc
from typing import Any


class Schedules(abc.ABC):
    """Recurrences (see :mod:`zerog.recurrence`): interval, offset, cron and backlog."""

    @abc.abstractmethod
    def recur(self, recurrence: dict[str, Any]) -> None:
        """Store a recurrence, replacing one with the same ``id``. Claiming from its queue
        spawns its jobs when they are due: exactly one job per tick however many workers
        claim, in the claim's own step."""

    @abc.abstractmethod
    def unrecur(self, recurrence_id: str) -> bool:
        """Forget a recurrence (jobs it spawned stay); False when there was none."""

    @abc.abstractmethod
    def recurrences(self, queue: str | None = None) -> list[dict[str, Any]]:
        """The recurrences (of ``queue``, or all), in creation order."""

    @abc.abstractmethod
    def update_recurrence(self, recurrence_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        """Change some keys of a recurrence in one step (see
        :func:`zerog.recurrence.apply_update`); returns it. Raises JobNotFound."""
