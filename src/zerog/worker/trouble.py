"""A failure that repeats, told once: the store unreachable or unwritable for a while.

A worker that meets the same error at every claim would otherwise write a traceback per try,
hundreds a minute, and hammer a store that is already in trouble. A :class:`Trouble` logs the
first failure with its traceback and what was being done, then at most one line every
:data:`REPEAT_SECONDS` with how many times it failed since, and once more when it works again;
:meth:`Trouble.failed` answers how long to wait before the next try (doubling, capped).
"""

from __future__ import annotations

import logging
import threading
import time

FIRST_WAIT_SECONDS = 0.1  # the first retry comes this soon...
MAX_WAIT_SECONDS = 5.0  # ...and no retry waits longer than this.
REPEAT_SECONDS = 30.0  # a failure that goes on is logged again at most this often.


class Trouble:
    """One kind of failure of one worker part (its claims, its heartbeat)."""

    def __init__(self, part: str, log: logging.Logger) -> None:
        self.part = part  # e.g. "claims", named in every line.
        self._log = log
        self._lock = threading.Lock()
        self.failures = 0  # since the last success.
        self._since = 0.0  # monotonic time of the first of them.
        self._logged_at = float("-inf")

    @property
    def failing(self) -> bool:
        """Whether the last try failed."""
        return self.failures > 0

    def failed(self, what: str, exc: BaseException) -> float:
        """Record a failure of ``what`` (e.g. "claiming the next jobs"); returns the seconds
        to wait before trying again."""
        with self._lock:
            self.failures += 1
            now = time.monotonic()
            if self.failures == 1:
                self._since = now
                self._logged_at = now
                self._log.error(
                    "%s: %s failed: %s",
                    self.part,
                    what,
                    exc,
                    exc_info=exc,
                    extra={"event": "worker.store_error", "part": self.part},
                )
            elif now - self._logged_at >= REPEAT_SECONDS:
                self._logged_at = now
                self._log.error(
                    "%s: still failing (%d times in %.0f s): %s failed: %s",
                    self.part,
                    self.failures,
                    now - self._since,
                    what,
                    exc,
                    extra={"event": "worker.store_error", "part": self.part},
                )
            return float(min(MAX_WAIT_SECONDS, FIRST_WAIT_SECONDS * 2 ** (self.failures - 1)))

    def ok(self) -> None:
        """The part works (again): log the recovery once."""
        if not self.failures:
            return
        with self._lock:
            failures, self.failures = self.failures, 0
            self._log.warning(
                "%s: working again after %d failure(s) in %.0f s",
                self.part,
                failures,
                time.monotonic() - self._since,
                extra={"event": "worker.store_recovered", "part": self.part},
            )
