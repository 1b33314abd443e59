"""The Store's read model: records as readers see them, lists, counts, stalled jobs."""

from __future__ import annotations

import builtins
import re

from zerog import stalls
from zerog.errors import InvalidOptions, JobNotFound
from zerog.model import ListQuery, Page, Record, State
from zerog.record import eta_seconds
from zerog.store._base import Facade

MAX_PAGE = 500  # list pages are clamped to this many jobs.
FULL_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
MIN_SHORT_ID = 4  # a shorter fragment matches too many jobs to mean one.
MAX_MATCHES = 5  # candidates named when a short id is ambiguous.


class AmbiguousId(InvalidOptions):
    """A short job id that several jobs' ids start or end with."""

    def __init__(self, text: str, candidates: list[str]) -> None:
        self.candidates = candidates
        super().__init__(f"{text!r} matches several jobs: {', '.join(candidates)}, ...")


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

    def resolve_id(self, text: str) -> str:
        """The uuid a user means by ``text``: a whole uuid as it is, else the one job whose
        uuid starts or ends with it (a leading ``…`` or ``...`` is dropped: the dashboard
        and the CLI show ids by their last digits, since UUIDv7 ids made in the same moment
        share their first ones). JobNotFound when none matches (or it is too short to name
        one), AmbiguousId naming a few when several do. A short id reads every job's uuid:
        fine for a person's command, not for a hot path (a backend lookup by fragment would
        make it cheap)."""
        fragment = text.strip().lower().lstrip(".…")
        if FULL_ID.fullmatch(fragment):
            return fragment
        if len(fragment) < MIN_SHORT_ID:
            raise JobNotFound(text)  # too short to name one job: none has that id.
        found = self.find_ids(fragment, MAX_MATCHES)
        if not found:
            raise JobNotFound(text)
        if len(found) > 1:
            raise AmbiguousId(text, found)
        return found[0]

    def find_ids(self, fragment: str, limit: int) -> builtins.list[str]:
        """Up to ``limit`` uuids that start or end with ``fragment``, newest first."""
        found: builtins.list[str] = []
        cursor: str | None = None
        while len(found) < limit:
            page = self.list(limit=MAX_PAGE, cursor=cursor)
            found += [
                r["uuid"]
                for r in page.records
                if r["uuid"].startswith(fragment) or r["uuid"].endswith(fragment)
            ]
            if page.cursor is None:
                break
            cursor = page.cursor
        return found[:limit]
