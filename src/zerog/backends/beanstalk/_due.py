"""When a reserve must kick scheduled jobs that fell due before beanstalkd let them go.

beanstalkd delays an entry by whole seconds, on its own clock; the store's clock (a test's
fake clock, or just a fraction of a second earlier) may say a job is due sooner. Such entries
are kicked by the next reserve after the job is due: the store keeps, per delayed entry, when
its job is due (store clock) and until when beanstalkd delays it (wall clock).
"""

from __future__ import annotations

import time

DUE_REFRESH_SECONDS = 1.0  # another process may schedule jobs: ask the store this often.


class DueWatch:
    """When a reserve must ask the store for scheduled jobs that fell due before
    beanstalkd's whole-second delay ran out: at the first one's due time, by the store's
    clock, and every DUE_REFRESH_SECONDS for those other processes scheduled."""

    def __init__(self) -> None:
        self.next_due: float | None = None
        self._refresh_at = 0.0

    def wanted(self, now: float) -> bool:
        """Whether to ask now."""
        due = self.next_due is not None and now >= self.next_due
        return due or time.monotonic() >= self._refresh_at

    def asked(self, next_due: float | None) -> None:
        """The store answered; the next job is due at ``next_due``."""
        self.next_due = next_due
        self._refresh_at = time.monotonic() + DUE_REFRESH_SECONDS

    def lower(self, due: float) -> None:
        """This process scheduled a job due at ``due``."""
        if self.next_due is None or due < self.next_due:
            self.next_due = due
