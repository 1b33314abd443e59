"""The upkeep role: the store's config, its statistics, and what it keeps for how long."""

from __future__ import annotations

import abc
from collections.abc import Sequence
from typing import Any

from zerog.model import Retention


class Upkeep(abc.ABC):
    """Config keys (qless's), per-queue daily statistics, retention of finished jobs."""

    history_limit: int | None = None
    """At most this many history entries are kept per job (qless's max-job-history); the
    oldest go first. None keeps them all. Set by the Store from the config."""

    @abc.abstractmethod
    def config(self) -> dict[str, Any]:
        """The config keys that were set (see :mod:`zerog.config` for their defaults)."""

    @abc.abstractmethod
    def set_config(self, key: str, value: Any) -> None:
        """Set a config key to a JSON value, or unset it (None)."""

    @abc.abstractmethod
    def add_stats(self, deltas: Sequence[Any]) -> None:
        """Merge :class:`zerog.stats.StatsDelta` batches into the stored statistics."""

    @abc.abstractmethod
    def stats(self, queue: str, day: float) -> dict[str, Any]:
        """The statistics of ``queue`` on the UTC day starting at ``day`` (see
        :func:`zerog.stats.empty`); all zero when none were kept."""

    @abc.abstractmethod
    def prune(self, retention: Retention, limit: int = 1000) -> int:
        """Delete up to ``limit`` finished jobs (complete, cancelled, expired; never failed
        ones) past the retention (older than ``jobs_seconds``, or beyond the newest
        ``jobs_count``), with their history, and statistics older than their days. Returns
        how many jobs went; call again while it returns ``limit``."""
