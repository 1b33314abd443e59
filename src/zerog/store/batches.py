"""The Store's batches: a group of jobs with a callback job that runs once, when every member
has ended, and the group's progress.

A batch is stored as jobs, with no table or key of its own: the callback job lists the
members (``batch_members``) and waits for them as for dependencies, except that any final
state of a member counts as its end (complete, failed for good, cancelled, expired; see
:func:`zerog.flow.counts_any_end`). Each backend drops an ended member from the callback's
``depends`` in the very step that ends it, and readies the callback in the step that ends
the last one: a crash, a retry or two workers ending the last two members at once can
neither fire it twice nor lose it. The batch's id is the callback's uuid.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from zerog import flow
from zerog.errors import InvalidOptions, JobNotFound
from zerog.model import FINAL_STATES, Record, State
from zerog.record import JobSpec
from zerog.store.jobs import Jobs

FINAL = frozenset(s.value for s in FINAL_STATES)
MAX_MEMBERS = 1_000
"""The callback's record lists the members it still waits for, rewritten as each one ends: a
member's end costs in proportion to the batch's size (measured on SQLite: 1.5 ms at 100
members, 4 ms at 1,000, against under 1 ms for a plain job), so batches stay this small."""


class Batches(Jobs):
    """Putting a batch, and reading its progress."""

    def put_batch(self, members: Sequence[JobSpec], callback: JobSpec) -> str:
        """Store ``members`` and ``callback`` in one step (all or none); the callback stays
        ``depends`` until every member ended, then becomes ready once. Returns the batch's
        id (the callback's uuid). Members may be neither unique nor debounced (a merged put
        would not be the member asked for)."""
        if not 0 < len(members) <= MAX_MEMBERS:
            raise InvalidOptions(f"a batch has 1 to {MAX_MEMBERS} members, not {len(members)}")
        for spec in (*members, callback):
            if spec.unique or spec.debounce is not None:
                raise InvalidOptions("a batch's jobs can be neither unique nor debounced")
        records = [self._check_new(spec) for spec in members]
        last = self._check_new(callback)
        uuids = [r["uuid"] for r in records]
        if len(set(uuids)) != len(uuids) or last["uuid"] in uuids:
            raise InvalidOptions("a batch's jobs need distinct ids")
        for record in records:
            record[flow.BATCH_ID] = last["uuid"]
        last["depends"] = [*uuids, *last.get("depends", ())]
        last[flow.BATCH_MEMBERS] = uuids
        placed = self.backend.put_many([*records, last])
        for record, one in zip([*records, last], placed, strict=True):
            self._placed(record, one)
        return str(last["uuid"])

    def batch(self, batch_id: str) -> dict[str, Any]:
        """A batch's progress: its callback's state, how many members are in each state,
        how many ended, the members' mean completeness, and each member's state (uuid ->
        state; a deleted member shows ``deleted``). JobNotFound when ``batch_id`` names no
        batch's callback."""
        callback = self.backend.get(batch_id)
        members = callback.get(flow.BATCH_MEMBERS)
        if not members:
            raise JobNotFound(batch_id)
        states: dict[str, str] = {}
        done = 0.0
        for uuid in members:
            record = self._member(uuid)
            states[uuid] = str(record["state"]) if record else "deleted"
            done += 1.0 if record is None else _completeness(record)
        return _summary(batch_id, callback, states, done / len(members))

    def _member(self, uuid: str) -> Record | None:
        try:
            return self.backend.get(uuid)
        except JobNotFound:
            return None


def _completeness(record: Record) -> float:
    """A member's completeness as the batch counts it: an ended member is done (1.0)."""
    if record["state"] in FINAL:
        return 1.0
    return float(record.get("completeness") or 0.0)


def _summary(
    batch_id: str, callback: Record, states: dict[str, str], completeness: float
) -> dict[str, Any]:
    counts: dict[str, int] = {}
    for state in states.values():
        counts[state] = counts.get(state, 0) + 1
    ended = sum(n for s, n in counts.items() if s in FINAL or s == "deleted")
    return {
        "id": batch_id,
        "callback": {"uuid": batch_id, "type": callback["type"], "state": callback["state"]},
        "total": len(states),
        "ended": ended,
        "complete": counts.get(State.COMPLETE.value, 0),
        "failed": counts.get(State.FAILED.value, 0),
        "running": counts.get(State.RUNNING.value, 0),
        "counts": counts,
        "completeness": round(completeness, 4),
        "members": states,
    }
