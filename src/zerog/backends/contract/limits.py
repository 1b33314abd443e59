"""The limits role: how many jobs may run at once, across every worker of the store."""

from __future__ import annotations

import abc


class Limits(abc.ABC):
    """Named concurrency limits; a queue's own is named ``queue:<queue>``."""

    @abc.abstractmethod
    def set_limit(self, name: str, maximum: int | None) -> None:
        """At most ``maximum`` running jobs may count against limit ``name`` at once, across
        all workers (None removes the limit). A queue's own limit is named ``queue:<queue>``
        and counts every job of that queue; other names count the jobs that carry them in
        ``throttles``. A job whose limits are full is passed over by claims (it stays
        waiting) for the next one that may run."""

    @abc.abstractmethod
    def limits(self) -> dict[str, int]:
        """The limits set, by name."""
