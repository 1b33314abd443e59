"""The facade: the one call site into a backend.

Every caller (job classes, workers, CLI, HTTP) goes through a :class:`Store`. It checks input
and sizes before anything reaches a backend, names the transitions (complete, requeue, retry,
fail, ...) on top of the backend's one write, logs each state change with structured fields,
counts them for metrics, and wakes same-process workers when a job is put. Its parts follow
the backend's roles (:mod:`zerog.backends.contract`): jobs, reads, queues, schedules, limits,
upkeep; a part whose role the backend lacks raises NotSupported.

:func:`open_store` is the one way from a URL to a Store; :func:`default_store` and
:func:`use` keep the process's own.
"""

from __future__ import annotations

import threading

from zerog.backends import open_backend
from zerog.settings import Settings
from zerog.store.audit import AuditTrail
from zerog.store.batches import Batches
from zerog.store.jobs import Jobs
from zerog.store.messages import Messages
from zerog.store.queues import Queues
from zerog.store.reads import MAX_PAGE, Reads
from zerog.store.schedules import Limits, Schedules
from zerog.store.upkeep import Upkeep


class Store(Batches, Jobs, Reads, Queues, Schedules, Limits, Upkeep, Messages, AuditTrail):
    """A backend plus the checks, names, logs and counters every caller shares."""

    @classmethod
    def from_url(cls, url: str, settings: Settings | None = None) -> Store:
        """Open the backend a URL names (see :func:`open_store`)."""
        return open_store(url, settings)

    def close(self) -> None:
        """Flush the statistics and close the backend."""
        try:
            self.stats.flush()
        finally:
            self._close_waiter()
            self.backend.close()


def open_store(url: str | None = None, settings: Settings | None = None) -> Store:
    """The Store a URL names (``settings.url`` when None, else ``ZEROG_URL`` or the default):
    the one place a URL becomes a Store, for the CLI, workers, the server and the faces."""
    settings = settings or Settings.from_env()
    if url is not None:
        settings = settings.replace(url=url)
    return Store(open_backend(settings.url), settings)


_default_lock = threading.Lock()
_default: Store | None = None


def default_store() -> Store:
    """The process's store: the one set with :func:`use`, else ``ZEROG_URL`` (or the default)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = open_store()
        return _default


def use(target: str | Store | None, settings: Settings | None = None) -> Store | None:
    """Make a URL or a Store the process's store (None forgets it); returns the new store."""
    global _default
    with _default_lock:
        _default = open_store(target, settings) if isinstance(target, str) else target
        return _default


__all__ = ["MAX_PAGE", "Store", "default_store", "open_store", "use"]
