"""deferrable's ``Queue`` interface over a zerog store.

Each pushed item is one zerog job (kind ``function``) whose values are the item, so deferred
calls show up beside every other job: in ``zerog jobs``, the HTTP API and the dashboard. The
envelope of a popped item carries the job's lease: ``touch`` renews it, ``complete`` settles it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from zerog.model import Lease, Placed, Record, State
from zerog.record import Debounce, JobSpec, new_worker_id
from zerog.store import Store

FUNCTION_KIND = "function"
MAX_POP_BATCH_SIZE = 500


@dataclass(frozen=True)
class Envelope:
    """What the store returned for a popped item: its job's lease and record."""

    lease: Lease
    record: Record

    @property
    def uuid(self) -> str:
        """The id of the item's job."""
        return self.lease.uuid


class Queue:
    """A named zerog queue seen through deferrable's push / pop / complete interface."""

    FIFO = True
    SUPPORTS_DELAY = True
    MAX_POP_BATCH_SIZE = MAX_POP_BATCH_SIZE

    def __init__(self, store: Store, name: str) -> None:
        self.store = store
        self.name = name
        self.worker_id = new_worker_id()

    def push(self, item: dict[str, Any]) -> str:
        """Queue an item (after ``item['delay']`` seconds, if set); returns its job id."""
        return self.store.enqueue(self._spec(item))

    def push_debounced(self, item: dict[str, Any], debounce: Debounce) -> Placed:
        """Queue an item under deferrable's debounce, decided by the store in the put's own
        step: pushed now, delayed to the end of the window, or skipped (see
        :func:`zerog.flow.debounce_plan`)."""
        return self.store.place(replace(self._spec(item), delay_seconds=0.0, debounce=debounce))

    def push_batch(self, items: list[dict[str, Any]]) -> list[str]:
        """Queue several items at once: all of them, or (on bad input) none."""
        return self.store.enqueue_many(self._spec(item) for item in items)

    def _spec(self, item: dict[str, Any]) -> JobSpec:
        return JobSpec(
            type=str(item.get("method") or "deferrable.item"),
            kind=FUNCTION_KIND,
            queue=self.name,
            values=item,
            delay_seconds=float(item.get("delay") or 0),
            max_retries=max(0, int(item.get("max_attempts", 1)) - 1),
            ttl_seconds=_ttl_left(item),
        )

    def pop(self) -> tuple[Envelope | None, dict[str, Any] | None]:
        """The next item and its envelope, or ``(None, None)`` when the queue is empty."""
        reservation = self.store.reserve([self.name], self.worker_id)
        if reservation is None:
            return None, None
        item = dict(reservation.record["values"])
        item["attempts"] = reservation.record["attempts"] - 1  # deferrable counts from 0.
        return Envelope(reservation.lease, reservation.record), item

    def pop_batch(self, batch_size: int) -> list[tuple[Envelope, dict[str, Any]]]:
        """Up to ``batch_size`` items."""
        if batch_size > self.MAX_POP_BATCH_SIZE:
            raise ValueError(f"Batch size cannot exceed {self.MAX_POP_BATCH_SIZE}.")
        popped = []
        for _ in range(batch_size):
            envelope, item = self.pop()
            if envelope is None or item is None:
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

    def complete_batch(self, envelopes: list[Envelope]) -> None:
        """Complete several items."""
        for envelope in envelopes:
            self.complete(envelope)

    def flush(self) -> int:
        """Drop every item not yet in flight (their jobs end cancelled); returns how many."""
        dropped = 0
        for state in (State.WAITING, State.SCHEDULED):
            while page := self.store.list(state=state, queue=self.name, limit=500).records:
                for record in page:
                    self.store.act(record["uuid"], "cancel")
                    dropped += 1
        return dropped

    def stats(self) -> dict[str, int]:
        """``available`` (ready), ``in_flight`` (running) and ``delayed`` (scheduled) items."""
        counts = self.store.counts().get(self.name, {})
        return {
            "available": counts.get(State.WAITING, 0),
            "in_flight": counts.get(State.RUNNING, 0),
            "delayed": counts.get(State.SCHEDULED, 0),
        }


def _ttl_left(item: dict[str, Any]) -> float | None:
    """The store's TTL for an item that has one: what is left of it at push time."""
    ttl = item.get("ttl_seconds")
    if not ttl:
        return None
    delay = float(item.get("delay") or 0)
    return max(float(ttl), delay + 0.001)
