"""One process's statistics, added up in memory and flushed to the backend every few seconds.

The Store tells the buffer of every reservation (the wait just ended) and settlement (the run
just ended); the buffer keeps a :class:`zerog.stats.StatsDelta` per queue and day and writes
them with one :meth:`Backend.add_stats` call at most every :data:`FLUSH_SECONDS`, so the
hot path pays nothing more than a dictionary update.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from zerog import stats
from zerog.errors import ZerogError
from zerog.model import Record, State

if TYPE_CHECKING:
    from zerog.model import Settlement

log = logging.getLogger(__name__)

FLUSH_SECONDS = 5.0  # statistics reach the backend at most this long after the fact.
MAX_RUNS = 100_000  # runs remembered (reserved, not settled yet) before the oldest are dropped.


class StatsBuffer:
    """Sums of what this process saw, not yet written."""

    def __init__(
        self, write: Callable[[Sequence[stats.StatsDelta]], None], clock: Callable[[], float]
    ) -> None:
        self._write = write  # the backend's add_stats (Upkeep role).
        self._clock = clock
        self._lock = threading.Lock()
        self._deltas: dict[tuple[str, float], stats.StatsDelta] = {}
        self._runs: dict[str, tuple[str, float]] = {}
        self._flushed_at = clock()

    def _delta(self, queue: str, at: float) -> stats.StatsDelta:
        key = (queue, stats.day_of(at))
        delta = self._deltas.get(key)
        if delta is None:
            delta = self._deltas[key] = stats.StatsDelta(queue=queue, day=key[1])
        return delta

    def reserved(self, record: Record, now: float) -> None:
        """A job was reserved: its wait ended and its run began."""
        with self._lock:
            queue = record["queue"]
            waited = now - float(record.get("ready_at") or now)
            self._delta(queue, now).wait.add(max(0.0, waited))
            if len(self._runs) >= MAX_RUNS:
                self._runs.pop(next(iter(self._runs)))
            self._runs[record["uuid"]] = (queue, now)
        self._maybe_flush(now)

    def settled(self, uuid: str, settlement: Settlement, now: float) -> None:
        """A run ended: count its time when it completed, and failures and retries."""
        with self._lock:
            run = self._runs.pop(uuid, None)
            if run is not None:
                queue, started = run
                delta = self._delta(queue, now)
                if settlement.state == State.COMPLETE or settlement.event == "advanced":
                    delta.run.add(max(0.0, now - started))
                elif settlement.state == State.FAILED:
                    delta.failures += 1
                elif settlement.event == "retried":
                    delta.retries += 1
        self._maybe_flush(now)

    def _maybe_flush(self, now: float) -> None:
        if now - self._flushed_at >= FLUSH_SECONDS:
            self.flush()

    def flush_if_due(self, now: float) -> None:
        """Flush when the last flush is older than :data:`FLUSH_SECONDS` (called by the
        worker's heartbeat, so that an idle worker's last statistics are written too)."""
        if self._deltas:
            self._maybe_flush(now)

    def flush(self) -> None:
        """Write what was added up since the last flush (kept for the next one on failure)."""
        with self._lock:
            deltas = list(self._deltas.values())
            self._deltas = {}
            self._flushed_at = self._clock()
        if not deltas:
            return
        try:
            self._write(deltas)
        except ZerogError as exc:
            log.warning("statistics not written (%s); they are dropped", exc)

    def pending(self) -> dict[str, Any]:
        """How much is waiting to be written (for tests and /metrics)."""
        with self._lock:
            return {"deltas": len(self._deltas), "runs": len(self._runs)}
