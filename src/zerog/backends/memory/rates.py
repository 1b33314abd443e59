"""The memory backend's rate limits and fair share: a log of start times per rate-limited
name, and per fair queue the turn at which each key was last served."""

from __future__ import annotations

from collections.abc import Callable

from zerog import flow
from zerog.backends.memory._base import READY, MemoryState
from zerog.model import Record

Entry = tuple[int, int, str]


class MemoryRates(MemoryState):
    """Rate limits (the limits role's) and the choice of a fair queue's next job."""

    def __init__(self, clock: Callable[[], float] | None = None) -> None:
        super().__init__(clock)
        self._rates: dict[str, tuple[int, float]] = {}
        self._starts: dict[str, list[float]] = {}
        self._served: dict[str, dict[str, int]] = {}  # queue -> key -> turn last served.
        self._turn = 0

    def set_rate_limit(self, name: str, maximum: int | None, per: float) -> None:
        with self._atomic():
            if maximum is None:
                self._rates.pop(name, None)
                self._starts.pop(name, None)
            else:
                self._rates[name] = (int(maximum), float(per))

    def rate_limits(self) -> dict[str, tuple[int, float]]:
        with self._atomic():
            return dict(self._rates)

    def _rate_full(self, name: str, now: float) -> bool:
        """Whether rate limit ``name`` lets no job start at ``now``."""
        rate = self._rates.get(name)
        return rate is not None and not flow.rate_room(self._starts.get(name, []), *rate, now)

    def _rate_allows(self, record: Record, now: float) -> bool:
        return not any(self._rate_full(name, now) for name in flow.limit_names(record))

    def _started(self, record: Record, now: float) -> None:
        """Log the start of ``record`` against its rate limits, and its key's turn."""
        for name in set(flow.limit_names(record)):
            rate = self._rates.get(name)
            if rate is not None:
                kept = [at for at in self._starts.get(name, []) if at > now - rate[1]]
                self._starts[name] = [*kept, now]
        if record["queue"] in self._fair_queues:
            self._turn += 1
            self._served.setdefault(record["queue"], {})[flow.fair_key_of(record)] = self._turn

    def _rate_next(self, now: float) -> float | None:
        """When the first full rate window frees, so that idle workers wake then."""
        frees = [
            flow.rate_free_at(self._starts.get(name, []), maximum, per)
            for name, (maximum, per) in self._rates.items()
            if not flow.rate_room(self._starts.get(name, []), maximum, per, now)
        ]
        found = [at for at in frees if at is not None]
        return min(found) if found else None

    def _fair_pick(
        self, queue: str, now: float, may_run: Callable[[Record], bool]
    ) -> tuple[Entry, Record] | None:
        """A fair queue's next job: among the ready jobs of the first priority that has one
        allowed to run, the oldest of the key served least recently. Drops stale entries."""
        heap = self._heaps.get(queue, [])
        served = self._served.get(queue, {})
        live: list[Entry] = []
        best: tuple[int, Entry, Record] | None = None
        for entry in sorted(heap):
            record = self._jobs.get(entry[2])
            if record is None or record["state"] not in READY or record["queue"] != queue:
                continue
            if record["priority"] != entry[0]:
                continue
            live.append(entry)
            if record["ready_at"] > now or not may_run(record):
                continue
            if best is not None and entry[0] != best[1][0]:
                continue
            turn = served.get(flow.fair_key_of(record), 0)
            if best is None or turn < best[0]:
                best = (turn, entry, record)
        heap[:] = live
        return None if best is None else (best[1], best[2])
