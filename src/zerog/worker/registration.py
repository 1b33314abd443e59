"""A worker process's entry in the store's worker registry (``zerog workers``).

The entry says who the worker is (id, host, pid, its supervisor's pid, queues, threads,
version, start time) and what it runs now (the uuids of its jobs). The heartbeat thread
refreshes it: at once when the jobs changed (at most once a second), else every
``REFRESH_SECONDS``, well inside the age after which readers prune an entry
(``Store.workers``). A clean exit removes it; a supervisor removes the entry of a child it
saw die; an entry of a process that vanished otherwise ages out.

The registry is for people and dashboards: a failure to write it is logged, never fatal.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Sequence
from typing import Any

from zerog import __version__
from zerog.errors import ZerogError
from zerog.store import Store

log = logging.getLogger(__name__)

REFRESH_SECONDS = 5.0  # the longest an entry goes without a refresh.
CHANGE_SECONDS = 1.0  # a change of jobs is shown within this long, not more often.


class Registration:
    """Keeps one worker's registry entry up to date."""

    def __init__(
        self,
        store: Store,
        worker_id: str,
        queues: Sequence[str],
        threads: int,
        supervisor: int | None = None,
    ) -> None:
        self.store = store
        self.entry: dict[str, Any] = {
            "id": worker_id,
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "supervisor": supervisor,
            "queues": list(queues),
            "threads": threads,
            "jobs": [],
            "version": __version__,
            "started_at": store.clock(),
        }
        self._last = float("-inf")

    def register(self) -> None:
        """Add the entry (at the worker's start)."""
        self._write([])

    def refresh(self, jobs: Sequence[str]) -> None:
        """Refresh the entry if it is due, or if the jobs changed (heartbeat thread)."""
        since = time.monotonic() - self._last
        changed = sorted(jobs) != self.entry["jobs"]
        if since >= REFRESH_SECONDS or (changed and since >= CHANGE_SECONDS):
            self._write(jobs)

    def unregister(self) -> None:
        """Remove the entry (the worker stops cleanly)."""
        try:
            self.store.unregister_worker(self.entry["id"])
        except ZerogError as exc:
            log.warning("could not remove worker %s from the registry: %s", self.entry["id"], exc)

    def _write(self, jobs: Sequence[str]) -> None:
        self.entry["jobs"] = sorted(jobs)
        self._last = time.monotonic()
        try:
            self.store.register_worker(dict(self.entry))
        except ZerogError as exc:
            log.warning("could not refresh worker %s in the registry: %s", self.entry["id"], exc)
