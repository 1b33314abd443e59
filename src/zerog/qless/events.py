"""qless's ``client.events``: callbacks on what happens to tracked jobs.

qless publishes ``canceled``, ``completed``, ``failed``, ``popped``, ``stalled``, ``put``,
``track`` and ``untrack`` for tracked jobs over Redis pub/sub, each with the job's jid. zerog
has no pub/sub in every store, so :class:`Events` polls: each :meth:`Events.poll` reads the
tracked jobs' histories and calls the callbacks for what was added since the last poll, in
order. It starts watching when it is made (the first ``client.events``), so what happens to
tracked jobs after that is reported. A job tracked between two polls reports ``track``, then
its history since the earlier poll (the store does not record when tracking began).

``listen()`` polls until :meth:`Events.stop` (or ``unlisten()``) is called, or until its
``timeout``; ``thread()`` listens in a background thread for the ``with`` block, and polls
once more as the block ends, so that nothing that happened inside it is missed.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from zerog.errors import JobNotFound
from zerog.qless.listing import all_records
from zerog.store import Store

EVENTS = ("canceled", "completed", "failed", "popped", "stalled", "put", "track", "untrack")
POLL_SECONDS = 1.0  # how often listen() looks at the tracked jobs by default.

HISTORY_EVENTS = {
    "put": "put",
    "reserved": "popped",
    "completed": "completed",
    "advanced": "completed",  # qless's complete(next) publishes completed too.
    "failed": "failed",
    "failed-worker-lost": "failed",
    "cancelled": "canceled",
    "lease-expired": "stalled",
}
"""zerog history events and the qless event each one publishes."""

Callback = Callable[[str], Any]


@dataclass
class Mark:
    """How far a tracked job's history was read: its length and last entry then."""

    length: int
    last: dict[str, Any] | None


class Events:
    """Callbacks by qless event name, fed by polling the tracked jobs."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._callbacks: dict[str, Callback | None] = dict.fromkeys(EVENTS)
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._marks: dict[str, Mark] = {}
        self._since = store.clock()
        for jid, history in self._tracked().items():
            self._marks[jid] = _mark(history)

    def on(self, event: str, callback: Callback) -> None:
        """Call ``callback(jid)`` on ``event`` (one of :data:`EVENTS`)."""
        if event not in self._callbacks:
            raise NotImplementedError(f"callback {event!r}; events: {', '.join(EVENTS)}")
        self._callbacks[event] = callback

    def off(self, event: str) -> Callback | None:
        """Stop calling back on ``event``; returns the callback there was."""
        return self._callbacks.pop(event, None)

    def poll(self) -> int:
        """Call back for what happened to tracked jobs since the last poll; returns how many
        events were seen."""
        with self._lock:
            now = self.store.clock()
            happened = self._changes()
            self._since = now
        for event, jid in happened:
            callback = self._callbacks.get(event)
            if callback is not None:
                callback(jid)
        return len(happened)

    def _changes(self) -> list[tuple[str, str]]:
        happened: list[tuple[str, str]] = []
        tracked = self._tracked()
        for jid, history in tracked.items():
            mark = self._marks.get(jid)
            if mark is None:
                happened.append(("track", jid))
                fresh = [e for e in history if e["at"] >= self._since]
            else:
                fresh = _after(history, mark)
            happened.extend((HISTORY_EVENTS[e["event"]], jid) for e in fresh if _published(e))
            self._marks[jid] = _mark(history)
        for jid in [j for j in self._marks if j not in tracked]:
            del self._marks[jid]
            if self._exists(jid):
                happened.append(("untrack", jid))
        return happened

    def _tracked(self) -> dict[str, list[dict[str, Any]]]:
        """The tracked jobs' histories, by jid."""
        histories = {}
        for record in all_records(self.store, tracked=True):
            try:
                histories[record["uuid"]] = self.store.get(record["uuid"])["history"]
            except JobNotFound:
                continue  # deleted between the list and the read.
        return histories

    def _exists(self, jid: str) -> bool:
        try:
            self.store.get(jid, history=False)
        except JobNotFound:
            return False
        return True

    # --- listening ---------------------------------------------------------------------------

    def listen(self, timeout: float | None = None, interval: float = POLL_SECONDS) -> None:
        """Poll every ``interval`` seconds until stopped (or ``timeout`` seconds passed)."""
        self._stopped.clear()
        self._listen(timeout, interval)

    def _listen(self, timeout: float | None, interval: float) -> None:
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self._stopped.is_set():
            self.poll()
            left = interval if deadline is None else min(interval, deadline - time.monotonic())
            if left <= 0 or self._stopped.wait(left):
                return

    def stop(self) -> None:
        """Make ``listen()`` return (from a callback or another thread)."""
        self._stopped.set()

    unlisten = stop

    @contextlib.contextmanager
    def thread(self, interval: float = POLL_SECONDS) -> Iterator[Events]:
        """Listen in a background thread for the duration of the ``with`` block. What
        happened up to the block's end is called back before it returns (qless delivers its
        pub/sub messages as they are published; a poll between two ticks would lose them)."""
        self._stopped.clear()
        listener = threading.Thread(
            target=self._listen, args=(None, interval), name="qless-events", daemon=True
        )
        listener.start()
        try:
            yield self
        finally:
            self.stop()
            listener.join()
            self.poll()


def _mark(history: list[dict[str, Any]]) -> Mark:
    return Mark(len(history), history[-1] if history else None)


def _after(history: list[dict[str, Any]], mark: Mark) -> list[dict[str, Any]]:
    """The entries added since ``mark`` (the oldest may have been dropped meanwhile: the
    last entry seen is then looked for)."""
    if mark.last is None:
        return history
    if len(history) >= mark.length and history[mark.length - 1] == mark.last:
        return history[mark.length :]
    for index in range(len(history) - 1, -1, -1):
        if history[index] == mark.last:
            return history[index + 1 :]
    return history


def _published(entry: dict[str, Any]) -> bool:
    return entry.get("event") in HISTORY_EVENTS
