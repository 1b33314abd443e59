"""deferrable's ``Queue`` interface over a zerog store.

Each pushed item is one zerog job (kind ``function``) whose values are the item as tagged JSON
(:mod:`zerog.deferrable.codec`), so deferred calls show up beside every other job: in
``zerog jobs``, the HTTP API and the dashboard. ``pop`` gives back exactly the item pushed
(a dict stays a dict, a tuple a tuple) with an envelope that carries the job's lease:
``touch`` renews it, ``complete`` settles it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from zerog.deferrable import codec
from zerog.errors import InvalidTransition, ReservationLost
from zerog.model import Lease, Placed, Record, State
from zerog.record import Debounce, JobSpec, new_worker_id
from zerog.store import Store

FUNCTION_KIND = "function"
MAX_BATCH_SIZE = 500
ITEM_KEY = "__item__"  # holds an item that is not a dict (a job's values are an object).
QUEUED = (State.WAITING.value, State.SCHEDULED.value, State.DEPENDS.value, State.PAUSED.value)


@dataclass(frozen=True)
class Envelope:
    """What the store returned for a popped item: its job's lease and record."""

    lease: Lease
    record: Record

    @property
    def uuid(self) -> str:
        """The id of the item's job."""
        return self.lease.uuid


def to_values(item: Any) -> dict[str, Any]:
    """A job's values holding ``item``."""
    encoded = codec.encode(item, "the item")
    if isinstance(encoded, dict) and set(encoded) != {ITEM_KEY}:
        return encoded
    return {ITEM_KEY: encoded}


def from_values(values: dict[str, Any]) -> Any:
    """The item a job's values hold."""
    if set(values) == {ITEM_KEY}:
        return codec.decode(values[ITEM_KEY])
    return codec.decode(values)


class Queue:
    """A named zerog queue seen through deferrable's push / pop / complete interface.

    ``ttr_seconds`` is how long a popped item stays in flight without a ``touch`` (None: the
    store's heartbeat config); ``wait_seconds`` how long ``pop`` waits for an item when none
    is ready (deferrable's ``wait_time``; 0: not at all).
    """

    FIFO = True
    SUPPORTS_DELAY = True
    MAX_POP_BATCH_SIZE = MAX_BATCH_SIZE
    MAX_COMPLETE_BATCH_SIZE = MAX_BATCH_SIZE

    def __init__(
        self,
        store: Store,
        name: str,
        ttr_seconds: float | None = None,
        wait_seconds: float = 0.0,
    ) -> None:
        self.store = store
        self.name = name
        self.ttr_seconds = ttr_seconds
        self.wait_seconds = wait_seconds
        self.worker_id = new_worker_id()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"

    def __len__(self) -> int:
        """Items ready to pop (deferrable's older ``len(queue)``)."""
        return self.stats()["available"]

    # --- producers ---------------------------------------------------------------------------

    def push(self, item: Any) -> str:
        """Queue an item (after ``item['delay']`` seconds, if set); returns its job id."""
        return self.store.enqueue(self._spec(item))

    def push_debounced(self, item: dict[str, Any], debounce: Debounce) -> Placed:
        """Queue an item under deferrable's debounce, decided by the store in the put's own
        step: pushed now, delayed to the end of the window, or skipped."""
        return self.store.place(replace(self._spec(item), delay_seconds=0.0, debounce=debounce))

    def push_batch(self, items: Sequence[Any]) -> list[str]:
        """Queue several items at once: all of them, or (on bad input) none."""
        return self.store.enqueue_many(self._spec(item) for item in items)

    def _spec(self, item: Any, delay: float | None = None) -> JobSpec:
        fields = item if isinstance(item, dict) else {}
        if delay is None:
            delay = float(fields.get("delay") or 0)
        return JobSpec(
            type=str(fields.get("method") or "deferrable.item"),
            kind=FUNCTION_KIND,
            queue=self.name,
            values=to_values(item),
            delay_seconds=delay,
            ttr_seconds=self.ttr_seconds,
            max_retries=max(0, int(fields.get("max_attempts", 1)) - 1),
        )

    # --- consumers ---------------------------------------------------------------------------

    def pop(self) -> tuple[Envelope | None, Any]:
        """The next item and its envelope, or ``(None, None)`` when none is ready."""
        reservation = self.store.reserve([self.name], self.worker_id)
        if reservation is None and self.wait_seconds > 0:
            self.store.wait_for_work(self.wait_seconds, [self.name])
            reservation = self.store.reserve([self.name], self.worker_id)
        if reservation is None:
            return None, None
        envelope = Envelope(reservation.lease, reservation.record)
        return envelope, from_values(reservation.record["values"])

    def pop_batch(self, batch_size: int) -> list[tuple[Envelope, Any]]:
        """Up to ``batch_size`` items, each with its envelope."""
        if batch_size > self.MAX_POP_BATCH_SIZE:
            raise ValueError(f"Batch size cannot exceed {self.MAX_POP_BATCH_SIZE}.")
        popped = []
        for _ in range(batch_size):
            envelope, item = self.pop()
            if envelope is None:
                break
            popped.append((envelope, item))
        return popped

    def touch(self, envelope: Envelope, seconds: float | None = None) -> None:
        """Keep the item in flight: renew its lease (by its TTR; ``seconds`` is accepted for
        deferrable's signature)."""
        self.store.heartbeat(envelope.lease)

    def complete(self, envelope: Envelope) -> None:
        """The item was handled: its job is complete."""
        self.store.complete(envelope.lease)

    def complete_batch(self, envelopes: Sequence[Envelope]) -> list[tuple[Envelope, bool]]:
        """Complete several items; each with whether it was still in flight (False: its
        lease was lost, another consumer may hold it now)."""
        if len(envelopes) > self.MAX_COMPLETE_BATCH_SIZE:
            raise ValueError(f"Batch size cannot exceed {self.MAX_COMPLETE_BATCH_SIZE}.")
        done = []
        for envelope in envelopes:
            try:
                self.complete(envelope)
            except ReservationLost:
                done.append((envelope, False))
            else:
                done.append((envelope, True))
        return done

    def flush(self) -> int:
        """Drop every item, as deferrable's queues do: those in flight are taken back first
        (their consumer's ``complete`` is then refused), and every job ends cancelled (or
        failed, if one taken back had no retries left). Returns how many were dropped."""
        dropped = 0
        for uuid in self._uuids(State.RUNNING.value):
            with contextlib.suppress(InvalidTransition):  # it ended meanwhile.
                dropped += self.store.timeout(uuid) == State.FAILED
        for state in QUEUED:
            while page := self.store.list(state=state, queue=self.name, limit=500).records:
                for record in page:
                    self.store.act(record["uuid"], "cancel")
                    dropped += 1
        return dropped

    def _uuids(self, state: str) -> list[str]:
        found: list[str] = []
        cursor = None
        while True:
            page = self.store.list(state=state, queue=self.name, limit=500, cursor=cursor)
            found.extend(record["uuid"] for record in page.records)
            if page.cursor is None:
                return found
            cursor = page.cursor

    def stats(self) -> dict[str, int]:
        """``available`` (ready), ``in_flight`` (running) and ``delayed`` (scheduled) items."""
        counts = self.store.counts().get(self.name, {})
        return {
            "available": counts.get(State.WAITING, 0),
            "in_flight": counts.get(State.RUNNING, 0),
            "delayed": counts.get(State.SCHEDULED, 0),
        }
