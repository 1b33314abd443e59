"""The limits role: how many jobs may run at once, and start per period, across every worker
of the store."""

from __future__ import annotations

import abc


class Limits(abc.ABC):
    """Named concurrency and rate limits; a queue's own are named ``queue:<queue>``."""

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

    @abc.abstractmethod
    def set_rate_limit(self, name: str, maximum: int | None, per: float) -> None:
        """At most ``maximum`` jobs counting against ``name`` may *start* in any window of
        ``per`` seconds, across all workers (None removes the rate limit). Names count jobs
        as concurrency limits do (``queue:<queue>``, or a name in ``throttles``). The backend
        keeps a log of the start times of each rate-limited name, by its own clock, and lets
        a job start only while fewer than ``maximum`` starts are in the last ``per`` seconds;
        a job passed over stays waiting."""

    @abc.abstractmethod
    def rate_limits(self) -> dict[str, tuple[int, float]]:
        """The rate limits set, by name: (maximum, per seconds)."""
