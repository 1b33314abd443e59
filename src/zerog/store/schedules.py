"""The Store's schedules and limits parts: recurring jobs, and how many may run at once."""

from __future__ import annotations

from typing import Any

from zerog.backends.contract import Limits as LimitsRole
from zerog.backends.contract import Schedules as SchedulesRole
from zerog.errors import JobNotFound
from zerog.record import to_json
from zerog.recurrence import RecurSpec, new_recurrence
from zerog.store import checks
from zerog.store._base import Facade


class Schedules(Facade):
    """Recurrences (the backend's schedules role)."""

    def recur(self, spec: RecurSpec) -> str:
        """Store a recurring job; returns its id. A cron line that does not parse, a
        schedule that could never run or values that are not JSON raise, storing nothing."""
        limit = self.settings.max_values_bytes
        to_json(spec.values, f"values of a recurring {spec.type} job", limit)
        checks.check_queue(spec.queue)
        doc = new_recurrence(spec, self.clock())
        self._role(SchedulesRole).recur(doc)
        self._audited("recur", str(doc["id"]), f"{spec.type} on {spec.queue}")
        self._changed("recur", doc["id"], "recurring", queue=spec.queue)
        return str(doc["id"])

    def unrecur(self, recurrence_id: str) -> bool:
        """Stop a recurrence (the jobs it spawned stay); False if there was none."""
        done = self._role(SchedulesRole).unrecur(recurrence_id)
        self._audited("unrecur", recurrence_id, None if done else "there was none")
        return done

    def recurrences(self, queue: str | None = None) -> list[dict[str, Any]]:
        """The recurrences (of one queue, or all)."""
        return self._role(SchedulesRole).recurrences(queue)

    def get_recurrence(self, recurrence_id: str) -> dict[str, Any]:
        """One recurrence; JobNotFound when there is none."""
        for doc in self.recurrences(None):
            if doc["id"] == recurrence_id:
                return doc
        raise JobNotFound(recurrence_id)

    def update_recurrence(self, recurrence_id: str, **changes: Any) -> dict[str, Any]:
        """Change a recurrence's values, priority, tags, retries, schedule, ... in one step."""
        if "values" in changes:
            to_json(changes["values"], "values of a recurring job", self.settings.max_values_bytes)
        doc = self._role(SchedulesRole).update_recurrence(recurrence_id, changes)
        self._audited("update-recurrence", recurrence_id, ", ".join(sorted(changes)))
        return doc


class Limits(Facade):
    """Concurrency limits across every worker (the backend's limits role)."""

    def set_limit(self, name: str, maximum: int | None) -> None:
        """At most ``maximum`` running jobs carrying throttle ``name`` at once (None: no
        limit)."""
        checks.check_limit(name, maximum)
        self._role(LimitsRole).set_limit(name, maximum)
        self._audited("limit", name, "unset" if maximum is None else str(maximum))
        self.wake()

    def set_queue_limit(self, queue: str, maximum: int | None) -> None:
        """At most ``maximum`` jobs of ``queue`` run at once, across all workers."""
        checks.check_queue(queue)
        self.set_limit(f"queue:{queue}", maximum)

    def limits(self) -> dict[str, int]:
        """Every limit set, by name (a queue's is ``queue:<name>``)."""
        return self._role(LimitsRole).limits()

    def set_rate_limit(self, name: str, maximum: int | None, per: float = 1.0) -> None:
        """At most ``maximum`` jobs counting against ``name`` (a throttle they carry, or
        ``queue:<queue>``) start in any window of ``per`` seconds, across all workers (None:
        no rate limit). Beside the concurrency limit of the same name, not instead of it."""
        checks.check_rate_limit(name, maximum, per)
        self._role(LimitsRole).set_rate_limit(name, maximum, float(per))
        detail = "unset" if maximum is None else f"{maximum} per {float(per):g}s"
        self._audited("rate-limit", name, detail)
        self.wake()

    def rate_limits(self) -> dict[str, tuple[int, float]]:
        """Every rate limit set, by name: (maximum, per seconds)."""
        return self._role(LimitsRole).rate_limits()
