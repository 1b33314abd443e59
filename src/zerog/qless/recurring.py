"""qless's ``RecurringJob``: the recipe a recurring job spawns its jobs from.

``client.jobs[id]`` of a recurrence's id gives one. Setting ``data``, ``priority``, ``tags``,
``retries``, ``interval``, ``backlog`` or ``klass`` changes the recipe in the store at once (for
the jobs it spawns from then on); ``move(queue)`` puts its next jobs in another queue;
``cancel()`` stops it (the jobs it spawned stay).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from zerog.qless.data import class_string, from_values, to_values
from zerog.qless.job import BaseJob

if TYPE_CHECKING:
    from zerog.qless.client import Client


class RecurringJob(BaseJob):
    """A recurrence seen the qless way: ``klass_name``, ``queue_name`` (and ``queue``),
    ``data``, ``priority``, ``tags``, ``retries``, ``interval``, ``count``, ``next``."""

    def __init__(self, client: Client, doc: dict[str, Any]) -> None:
        self.client = client
        self.jid = str(doc["id"])
        self._read(doc)

    def _read(self, doc: dict[str, Any]) -> None:
        self._doc = doc
        self.klass_name = str(doc["type"])
        self.queue_name = str(doc["queue"])

    def _update(self, **changes: Any) -> None:
        self._read(self.client.store.update_recurrence(self.jid, **changes))

    def __repr__(self) -> str:
        return f"<RecurringJob {self.klass_name} {self.jid}>"

    @property
    def klass(self) -> Any:
        """The job class, imported."""
        return self._import(self.klass_name)

    @klass.setter
    def klass(self, value: type | str) -> None:
        self._update(type=class_string(value))

    @property
    def data(self) -> Any:
        """The data each spawned job starts with."""
        return from_values(self._doc["values"])

    @data.setter
    def data(self, value: Any) -> None:
        self._update(values=to_values(value))

    @property
    def priority(self) -> int:
        """The spawned jobs' priority."""
        return int(self._doc["priority"])

    @priority.setter
    def priority(self, value: int) -> None:
        self._update(priority=value)

    @property
    def retries(self) -> int:
        """The spawned jobs' retries."""
        return int(self._doc["max_retries"])

    @retries.setter
    def retries(self, value: int) -> None:
        self._update(max_retries=value)

    @property
    def interval(self) -> float | None:
        """Seconds between spawns (None on a cron schedule)."""
        interval = self._doc["interval_seconds"]
        return None if interval is None else float(interval)

    @interval.setter
    def interval(self, value: float) -> None:
        self._update(interval_seconds=value)

    @property
    def backlog(self) -> int:
        """How many missed spawns are made up at most (0: all)."""
        return int(self._doc["backlog"])

    @backlog.setter
    def backlog(self, value: int) -> None:
        self._update(backlog=value)

    @property
    def tags(self) -> list[str]:
        """The spawned jobs' tags."""
        return list(self._doc["tags"])

    @tags.setter
    def tags(self, value: list[str]) -> None:
        self._update(tags=list(dict.fromkeys(value)))

    @property
    def count(self) -> int:
        """How many jobs it spawned."""
        return int(self._doc["count"])

    @property
    def next(self) -> float:
        """When it spawns next (seconds since the epoch)."""
        return float(self._doc["next_at"])

    def move(self, queue: str) -> None:
        """Spawn the next jobs in another queue."""
        self._update(queue=queue)

    def tag(self, *tags: str) -> list[str]:
        """Add tags to the spawned jobs."""
        self._update(tags=list(dict.fromkeys([*self.tags, *tags])))
        return self.tags

    def untag(self, *tags: str) -> list[str]:
        """Remove tags from the spawned jobs."""
        self._update(tags=[t for t in self.tags if t not in tags])
        return self.tags

    def cancel(self) -> bool:
        """Stop spawning jobs; True if it was recurring."""
        return self.client.store.unrecur(self.jid)
