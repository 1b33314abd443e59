"""The Store's read model: records as readers see them, lists, counts, stalled jobs."""

from __future__ import annotations

from zerog import stalls
from zerog.model import ListQuery, Page, Record, State
from zerog.record import eta_seconds
from zerog.store._base import Facade

MAX_PAGE = 500  # list pages are clamped to this many jobs.


class Reads(Facade):
    """Reads change nothing; each adds what a reader wants besides the stored keys."""

    def get(self, uuid: str, history: bool = True) -> Record:
        """A job's record with its ETA and whether it stalled (and its history unless told
        not to)."""
        return self.shown(self.backend.get(uuid, history=history))

    def shown(self, record: Record) -> Record:
        """Add what a reader sees besides the stored keys: ``eta``, ``quiet_seconds`` and
        ``stalled`` (see :mod:`zerog.stalls`)."""
        now = self.clock()
        record["eta"] = eta_seconds(record, now)
        return stalls.annotate(record, now, self._cached_config())

    def stalled(self, queue: str | None = None) -> list[Record]:
        """The running jobs that stalled, longest silent first. Running jobs are as many
        as worker slots, so this reads them all."""
        found: list[Record] = []
        cursor: str | None = None
        while True:
            page = self.list(state=State.RUNNING.value, queue=queue, limit=MAX_PAGE, cursor=cursor)
            found.extend(r for r in map(self.shown, page.records) if r["stalled"])
            if page.cursor is None:
                return sorted(found, key=lambda r: -float(r["quiet_seconds"] or 0))
            cursor = page.cursor

    def top_tags(self, limit: int = 20) -> list[tuple[str, int]]:
        """The most used tags, with how many jobs carry each."""
        return self.backend.top_tags(max(1, min(MAX_PAGE, int(limit))))

    def list(
        self,
        state: str | None = None,
        queue: str | None = None,
        type: str | None = None,
        tag: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
        tracked: bool | None = None,
        recurrence: str | None = None,
        worker: str | None = None,
    ) -> Page:
        """A page of jobs, newest first; ``limit`` is clamped to 1..500."""
        if state is not None:
            State(state)  # ValueError names a bad state before the backend sees it.
        query = ListQuery(
            state=state,
            queue=queue,
            type=type,
            tag=tag,
            tracked=tracked,
            recurrence=recurrence,
            worker=worker,
            limit=max(1, min(MAX_PAGE, int(limit))),
            cursor=cursor,
        )
        return self.backend.list(query)

    def counts(self) -> dict[str, dict[str, int]]:
        """Jobs per queue per state."""
        return self.backend.counts()
