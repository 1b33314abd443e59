"""The reconciler's checks beyond expired leases: the server, the entries, the pauses.

Run by :meth:`BeanstalkBackend.rescue_expired` (every worker calls it every few seconds, and
the server does), each check bounded and idempotent, so that any number of processes may run
them at once. What they repair (see the package docstring): a beanstalkd that restarted
(without a binlog it lost every entry), a ready job whose entry is missing or buried, and
beanstalkd's copy of the queue pauses (lost at a restart, and only ever set for a while).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from zerog.backends.beanstalk._entries import Entries
from zerog.backends.beanstalk._records import EntryInfo, RecordStore

log = logging.getLogger(__name__)

CHECK_BATCH = 100  # ready jobs whose entry is checked (one stats-job each) per run.
# beanstalkd's pause of a paused queue's tube lasts this long and is renewed at every run
# (every RESCUE_INTERVAL_SECONDS per worker): the store holds the pause for good, and a pause
# nobody renews (every zerog process gone, or a resume that did not reach beanstalkd) lapses.
PAUSE_SECONDS = 60
SERVER_KEY = "server"  # beanstalk_meta: the id of the beanstalkd process last seen.
CHECK_KEY = "check_after"  # beanstalk_meta: the seq the check of entries goes on after.


def durable(stats: dict[str, Any]) -> bool:
    """Whether beanstalkd keeps a binlog (``-b``): without one a restart loses every entry."""
    return int(stats.get("binlog-current-index", 0)) > 0


def warn_if_not_durable(stats: dict[str, Any], where: str) -> None:
    """The warning for a beanstalkd started without ``-b``."""
    if not durable(stats):
        log.warning(
            "beanstalkd at %s runs without a binlog (-b): a restart loses every queued entry; "
            "zerog re-creates them from the store, but only as fast as its reconciler checks "
            "them (%d jobs per worker every few seconds). Start it with -b <dir>.",
            where,
            CHECK_BATCH,
            extra={"event": "beanstalk.not_durable"},
        )


class Reconciler:
    """The checks, over one record store and one set of entries."""

    def __init__(
        self, records: RecordStore, entries: Entries, ensure: Callable[[EntryInfo], None]
    ) -> None:
        self.records = records
        self.entries = entries
        self.ensure = ensure

    def run(self) -> None:
        """Every check, once."""
        self.watch_server()
        self.check_entries()
        self.renew_pauses()

    def watch_server(self) -> None:
        """Notice a beanstalkd that restarted (its id changes): without a binlog it lost
        every entry, so the check of entries starts over from the first ready job."""
        stats = self.entries.stats()
        server = str(stats.get("id") or stats.get("pid"))
        known = self.records.get_meta(SERVER_KEY)
        if known == server:
            return
        if known is not None:
            log.warning(
                "beanstalkd restarted (server %s, was %s)%s; checking every ready job's entry",
                server,
                known,
                "" if durable(stats) else " without a binlog: its entries are lost",
                extra={"event": "beanstalk.restarted"},
            )
        self.records.set_meta(SERVER_KEY, server)
        self.records.set_meta(CHECK_KEY, "0")

    def check_entries(self, batch: int = CHECK_BATCH) -> None:
        """Check the entries of the next ``batch`` ready jobs, going round all of them."""
        after = int(self.records.get_meta(CHECK_KEY) or 0)
        ready = self.records.ready_after(after, batch)
        for item in ready:
            self.ensure(item.info)
        following = ready[-1].seq if len(ready) == batch else 0
        if following != after:
            self.records.set_meta(CHECK_KEY, str(following))

    def renew_pauses(self) -> None:
        """Pause the tubes of paused queues for another PAUSE_SECONDS."""
        for queue in self.records.backend.paused_queues():
            self.entries.pause(queue, PAUSE_SECONDS)
