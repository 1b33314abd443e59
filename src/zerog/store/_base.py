"""What every part of the facade shares: the backend, the settings, the counters, the
statistics buffer, the cached config, and same-process wake-ups."""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from zerog import config as configuration
from zerog.audit import audit_entry, current_actor
from zerog.backends.contract import (
    Audit,
    Backend,
    LocalWaiter,
    Role,
    Upkeep,
    Waiter,
    need,
    roles_of,
)
from zerog.settings import Settings
from zerog.stats import StatsDelta
from zerog.stats_buffer import StatsBuffer

log = logging.getLogger("zerog.store")

CONFIG_CACHE_SECONDS = 5.0  # the store's config is read again after this long.

R = TypeVar("R")


class Facade:
    """The state the role parts of :class:`zerog.store.Store` share."""

    def __init__(self, backend: Backend, settings: Settings | None = None) -> None:
        self.backend = backend
        self.roles = roles_of(backend)  # what the backend offers besides jobs, as data.
        self.settings = settings or Settings()
        self.counters: Counter[str] = Counter()
        self._waiter: Waiter | None = None  # made at the first wait (see wait_for_work).
        self._waiter_lock = threading.Lock()
        self._closed = False
        self._config: dict[str, Any] | None = None
        self._config_read_at = float("-inf")
        self.stats = StatsBuffer(self._write_stats, backend.clock)

    @property
    def clock(self) -> Callable[[], float]:
        """The backend's clock: the only time leases and schedules are measured in."""
        return self.backend.clock

    def _audited(self, action: str, target: str, detail: str | None = None) -> None:
        """Record an operator action, done, in the audit trail as the current actor's
        (:mod:`zerog.audit`); a backend without the audit role records nothing."""
        if Role.AUDIT in self.roles:
            entry = audit_entry(self.clock(), current_actor(), action, target, detail)
            self._role(Audit).append_audit(entry)

    @staticmethod
    def _actor_label() -> str:
        """Who acts, as a job's history names them."""
        return current_actor().label

    def _role(self, role: type[R]) -> R:
        """The backend in one of its optional roles; NotSupported when it lacks it."""
        return need(self.backend, role)

    def _write_stats(self, deltas: Sequence[StatsDelta]) -> None:
        if Role.UPKEEP in self.roles:  # a backend without upkeep keeps no statistics.
            self._role(Upkeep).add_stats(deltas)

    # --- the config, read by every part ------------------------------------------------------

    def config(self, fresh: bool = False) -> dict[str, Any]:
        """The config keys that were set (cached for a few seconds unless ``fresh``); see
        :mod:`zerog.config` for the keys and defaults."""
        return dict(self._cached_config(fresh))

    def _cached_config(self, fresh: bool = False) -> dict[str, Any]:
        """The cached config itself, read again when old: for readers that only look."""
        if Role.UPKEEP not in self.roles:
            return {}
        now = self.clock()
        if fresh or self._config is None or now - self._config_read_at > CONFIG_CACHE_SECONDS:
            upkeep = self._role(Upkeep)
            self._config = upkeep.config()
            self._config_read_at = now
            upkeep.history_limit = configuration.history_limit(self._config)
        return self._config

    # --- wake-ups and the log of changes -----------------------------------------------------

    def wake(self) -> None:
        """Tell idle workers that work may be ready (or, in this process, that they stop):
        this process's waiter, and the other processes' through the backend."""
        waiter = self._waiter
        if waiter is not None:
            waiter.interrupt()
        self.backend.ring()

    def wait_for_work(self, timeout: float, queues: Sequence[str] = ()) -> bool:
        """Sleep up to ``timeout`` seconds, less when a job may have become ready in
        ``queues``: put by this process, by another one where the backend hears others,
        or a scheduled job falling due. True when woken early (a hint: the claim decides)."""
        if queues:
            due = self.backend.next_due(queues)
            if due is not None:
                timeout = max(0.0, min(timeout, due - self.clock()))
        return self.waiter().wait(queues, timeout)

    def waiter(self) -> Waiter:
        """This process's waiter on the backend, made at first use (after :meth:`close`, one
        that holds nothing: a worker thread still stopping must not open a socket again)."""
        with self._waiter_lock:
            if self._waiter is None:
                self._waiter = LocalWaiter() if self._closed else self.backend.waiter()
            return self._waiter

    @property
    def hears_others(self) -> bool:
        """Whether work made ready by other processes wakes this one's waiting workers."""
        return self.waiter().hears_others

    def _close_waiter(self) -> None:
        with self._waiter_lock:
            waiter, self._waiter = self._waiter, None
            self._closed = True
        if waiter is not None:
            waiter.interrupt()
            waiter.close()

    def _changed(self, event: str, uuid: str, state: str, **fields: Any) -> None:
        """Count a change, and log it at debug level (the hot path builds nothing else)."""
        self.counters[event] += 1
        if log.isEnabledFor(logging.DEBUG):
            log.debug(
                "job %s %s -> %s",
                uuid,
                event,
                state,
                extra={"event": f"job.{event}", "job_id": uuid, "state": str(state), **fields},
            )
