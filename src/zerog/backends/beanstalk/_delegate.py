"""The parts of the Backend contract that involve no tube entry: the record store's own.

Reads, the worker registry, config, statistics, tags and the recurrences and limits as data
live in the store alone; beanstalkd has nothing to follow. (Changing a recurrence or a limit
is not here: the backend's reserve keeps a cache of both, see :mod:`._flow`.)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from zerog.audit import AuditQuery
from zerog.backends.contract import FullBackend
from zerog.model import Lease, ListQuery, Page, Record, State


class StoreOwn:
    """Mixed into the beanstalk backend before :class:`Backend`: each method is the record
    store's (``self.store``)."""

    store: FullBackend

    # --- readers -----------------------------------------------------------------------------

    def get(self, uuid: str, history: bool = False) -> Record:
        return self.store.get(uuid, history)

    def counts(self) -> dict[str, dict[str, int]]:
        return self.store.counts()

    def top_tags(self, limit: int = 20) -> list[tuple[str, int]]:
        return self.store.top_tags(limit)

    def recurrences(self, queue: str | None = None) -> list[dict[str, Any]]:
        return self.store.recurrences(queue)

    def limits(self) -> dict[str, int]:
        return self.store.limits()

    def paused_queues(self) -> frozenset[str]:
        return self.store.paused_queues()

    # --- messages (no tube entry moves: the job stays where it is) -------------------------

    def post_message(
        self,
        uuid: str,
        message: dict[str, Any],
        queue_if_idle: bool,
        limit: int,
        worker: str | None = None,
    ) -> State:
        return self.store.post_message(uuid, message, queue_if_idle, limit, worker)

    def take_messages(self, lease: Lease) -> list[dict[str, Any]]:
        return self.store.take_messages(lease)

    # --- the audit trail ----------------------------------------------------------------------

    def append_audit(self, entry: dict[str, Any]) -> int:
        return self.store.append_audit(entry)

    def audit_log(self, query: AuditQuery) -> list[dict[str, Any]]:
        return self.store.audit_log(query)

    # --- config and statistics ---------------------------------------------------------------

    def config(self) -> dict[str, Any]:
        return self.store.config()

    def set_config(self, key: str, value: Any) -> None:
        self.store.set_config(key, value)

    def add_stats(self, deltas: Sequence[Any]) -> None:
        self.store.add_stats(deltas)

    def stats(self, queue: str, day: float) -> dict[str, Any]:
        return self.store.stats(queue, day)

    @property
    def history_limit(self) -> int | None:
        """The record store's: its steps keep the cap (see SqlBackend.transact)."""
        return self.store.history_limit

    @history_limit.setter
    def history_limit(self, keep: int | None) -> None:
        self.store.history_limit = keep

    # --- workers -----------------------------------------------------------------------------

    def register_worker(self, worker: dict[str, Any]) -> None:
        self.store.register_worker(worker)

    def unregister_worker(self, worker_id: str) -> None:
        self.store.unregister_worker(worker_id)

    def workers(self, max_age_seconds: float) -> list[dict[str, Any]]:
        return self.store.workers(max_age_seconds)

    def list(self, query: ListQuery) -> Page:  # last: it shadows the builtin in this class.
        return self.store.list(query)
