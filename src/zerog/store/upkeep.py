"""The Store's upkeep part: setting the config, statistics, and the periodic pruning every
worker and server runs."""

from __future__ import annotations

from typing import Any

from zerog import config as configuration
from zerog import stats as statistics
from zerog.backends.contract import Upkeep as UpkeepRole
from zerog.record import to_json
from zerog.store._base import Facade

PRUNE_BATCH = 1000  # finished jobs deleted per prune step.
MAINTAIN_SECONDS = 60.0  # how often each worker and server runs maintain().
MAX_CONFIG_BYTES = 1 << 16  # one config value, as JSON.


class Upkeep(Facade):
    """Config, statistics and retention (the backend's upkeep role)."""

    _maintained_at: float | None = None

    def set_config(self, key: str, value: Any) -> None:
        """Set (or, with None, unset) a config key for every process sharing the store."""
        configuration.check(key, value)
        to_json(value, f"config {key!r}", MAX_CONFIG_BYTES)
        self._role(UpkeepRole).set_config(key, value)
        self._audited("config", key, "unset" if value is None else to_json(value, key))
        self.config(fresh=True)

    def queue_stats(self, queue: str, day: float | None = None) -> dict[str, Any]:
        """qless's statistics of a queue for a day (default today, UTC): wait and run times
        (count, mean, std, histogram), failures and retries."""
        self.stats.flush()
        when = self.clock() if day is None else day
        stored = self._role(UpkeepRole).stats(queue, statistics.day_of(when))
        return statistics.summary(stored)

    def maintain(self) -> int:
        """Periodic upkeep run by workers and the server: flush statistics, refresh the
        config, delete finished jobs and statistics past their retention. Returns how many
        jobs were deleted."""
        self.stats.flush()
        upkeep = self._role(UpkeepRole)
        retention = configuration.retention(self.config(fresh=True))
        deleted = 0
        while True:
            step = upkeep.prune(retention, PRUNE_BATCH)
            deleted += step
            if step < PRUNE_BATCH:
                break
        if deleted:
            self.counters["pruned"] += deleted
        return deleted

    def housekeeping(self) -> None:
        """What is due of the upkeep: statistics older than a few seconds are flushed, and
        :meth:`maintain` runs every :data:`MAINTAIN_SECONDS` (the first time one interval
        after the store opened, so that short-lived processes do not all prune at start)."""
        now = self.clock()
        self.stats.flush_if_due(now)
        if self._maintained_at is None:
            self._maintained_at = now
        elif now - self._maintained_at >= MAINTAIN_SECONDS:
            self._maintained_at = now
            self.maintain()
