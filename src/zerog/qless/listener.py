"""qless's ``Listener``: tells a worker which of its jobs it lost, as qless's pub/sub did.

qless publishes on ``ql:w:<worker>`` when a job held by that worker is cancelled, times out
(``lock_lost``) or is moved (``put``); a worker that hears it stops running the job. zerog has
no pub/sub on every store, so the listener polls: every ``interval`` seconds it looks at the
jobs the worker holds and yields a qless-shaped message for each one taken from it since:

    {"type": "message", "channel": "ql:w:<worker>", "data": '{"jid": ..., "event": ...}'}

A job the worker settled itself (complete, fail, retry, ...) is not reported.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Sequence
from typing import Any

from zerog.errors import JobNotFound
from zerog.model import Control, Record, State
from zerog.qless.listing import all_records
from zerog.store import Store

POLL_SECONDS = 1.0
SETTLED_BY_WORKER = frozenset({"completed", "advanced", "failed", "retried", "requeued"})
CHANNEL_PREFIX = "ql:w:"


class Listener:
    """Polls the store for the jobs the workers named by ``channels`` lose."""

    def __init__(self, store: Store, channels: Sequence[str], interval: float = POLL_SECONDS):
        self.store = store
        self.workers = [c.removeprefix(CHANNEL_PREFIX) for c in channels]
        self.interval = interval
        self._stopped = threading.Event()
        self._lock = threading.Lock()
        self._held: dict[str, str] = {}  # jid -> the worker holding it at the last poll.
        self.poll()

    def watch(self, jid: str, worker: str | None = None) -> None:
        """Watch a job a worker just took, even if it is lost before the next poll sees it
        running."""
        with self._lock:
            self._held[jid] = worker or self.workers[0]

    def listen(self) -> Iterator[dict[str, Any]]:
        """Yield a message for each job lost, until :meth:`unlisten`."""
        while not self._stopped.wait(self.interval):
            yield from self.poll()

    def unlisten(self) -> None:
        """Make :meth:`listen` end."""
        self._stopped.set()

    def poll(self) -> list[dict[str, Any]]:
        """The messages of what happened since the last poll."""
        held: dict[str, str] = {}
        messages = []
        for worker in self.workers:
            for record in all_records(self.store, state=State.RUNNING.value, worker=worker):
                held[record["uuid"]] = worker
                if record.get("control") == Control.CANCEL:
                    messages.append(_message(worker, record["uuid"], "canceled"))
        with self._lock:
            before, self._held = self._held, held
        for jid, worker in before.items():
            if jid not in held:
                event = self._lost(jid, worker)
                if event is not None:
                    messages.append(_message(worker, jid, event))
        return messages

    def _lost(self, jid: str, worker: str) -> str | None:
        """How ``worker`` lost the job (None: it settled it itself)."""
        try:
            record = self.store.get(jid)
        except JobNotFound:
            return "canceled"
        return lost_event(record, worker)


def lost_event(record: Record, worker: str) -> str | None:
    """What qless would publish for a job no longer running under ``worker``: ``canceled``,
    ``put`` (moved to another queue), ``lock_lost``, or None when the worker settled it."""
    history = record.get("history") or []
    last = history[-1] if history else {}
    if last.get("event") in SETTLED_BY_WORKER and last.get("worker") == worker:
        return None
    if record["state"] == State.CANCELLED:
        return "canceled"
    if last.get("event") == "altered":
        return "put"
    return "lock_lost"


def _message(worker: str, jid: str, event: str) -> dict[str, Any]:
    data = json.dumps({"jid": jid, "event": event, "worker": worker})
    return {"type": "message", "channel": CHANNEL_PREFIX + worker, "data": data}
