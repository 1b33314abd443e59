"""The beanstalk backend: the Backend contract over beanstalkd tubes and a record store.

How the two systems share the work, and the order in which each step writes to them, is
the package docstring's subject (:mod:`zerog.backends.beanstalk`); this module is the
contract's methods, each a store step plus what its tube entry must do after it.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from zerog import flow
from zerog.backends.beanstalk import _reconcile
from zerog.backends.beanstalk._base import DEFAULT_HOST, DEFAULT_PORT, OPTIONS, READY, best_effort
from zerog.backends.beanstalk._records import (
    Moved,
    open_records,
)
from zerog.backends.beanstalk._settling import Settling
from zerog.backends.beanstalk._waiter import BeanstalkWaiter
from zerog.backends.contract import Waiter
from zerog.errors import (
    BackendError,
    BackendUnavailable,
    ConfigurationError,
    NotSupported,
    ReservationLost,
)
from zerog.model import (
    Change,
    Control,
    Lease,
    Placed,
    Progress,
    Record,
    Retention,
    State,
)
from zerog.urls import BackendURL

log = logging.getLogger(__name__)


class BeanstalkBackend(Settling):
    """Jobs as records in a store, delivered as uuids through beanstalkd tubes: the contract's
    methods, each a store step plus what its tube entry must do after it (claims and the
    worker's batch write are in :mod:`._claiming` and :mod:`._settling`)."""

    @classmethod
    def from_url(
        cls, parsed: BackendURL, clock: Callable[[], float] | None = None
    ) -> BeanstalkBackend:
        """``beanstalk://host[:port]?store=<record store URL>[&prefix=<tube prefix>]``.

        ``store`` is where the records live: ``sqlite:///path.db`` or
        ``postgresql://user@host/database`` (a schema of its own per installation, as those
        backends' URLs say); percent-encode it when it has options of its own
        (``store=sqlite%3A%2F%2F%2Fj.db%3Fsynchronous%3Dfull``,
        ``store=postgresql%3A%2F%2Fzerog%40db%2Fjobs%3Fschema%3Dbeanstalk``).
        ``prefix`` goes before every queue's tube name, so that several zerog installations
        (or test runs) can share one beanstalkd. The host defaults to 127.0.0.1, the port to
        11300. A beanstalkd that cannot be reached now is only a warning: every command will
        try it again."""
        options = dict(parsed.options)
        store = options.pop("store", "")
        prefix = options.pop("prefix", "")
        if options:
            raise ConfigurationError(
                f"unknown option(s) {', '.join(sorted(options))} in {parsed.masked!r}; "
                f"known: {', '.join(OPTIONS)}"
            )
        records = open_records(store, parsed.masked, clock)
        backend = cls(
            (parsed.host or DEFAULT_HOST, parsed.port or DEFAULT_PORT), records, prefix=prefix
        )
        try:
            backend.check_server()
        except BackendUnavailable as exc:
            log.warning("%s; zerog will keep trying", exc)
        return backend

    def check_server(self) -> None:
        """Warn when beanstalkd keeps no binlog (a restart would lose its entries)."""
        host, port = self.address
        _reconcile.warn_if_not_durable(self.entries.stats(), f"{host}:{port}")

    def close(self) -> None:
        for waiter in list(self._waiters):
            waiter.close()
        self.entries.pool.close()
        self.records.close()

    def waiter(self) -> Waiter:
        """A blocking reserve on the queues' tubes (see :mod:`._waiter`); closed with the
        backend."""
        waiter = BeanstalkWaiter(self.address, self.entries.tube)
        self._waiters.add(waiter)
        return waiter

    def next_due(self, queues: Sequence[str]) -> float | None:
        """The first scheduled job's due time, of any queue (beanstalkd readies a delayed
        entry by itself; this wakes a worker for one due within the second it rounds to)."""
        return self.records.next_due()

    def put(self, record: Record) -> Placed:
        return self.put_many([record])[0]

    def put_many(self, records: Iterable[Record]) -> list[Placed]:
        """Store several new jobs in one store transaction: all of them, or none (an entry
        put before a failure is left without a record and deleted when delivered). Only the
        jobs stored ready get an entry: not one in depends, merged or skipped."""
        batch = list(records)
        if not batch:
            return []
        refuse_fair_keys(batch)
        inserted = self.records.insert(batch, self._entering("put:entered", self.entries.put))
        if inserted.first_due is not None:
            self._due.lower(inserted.first_due)
        return inserted.placed

    def touch(self, lease: Lease) -> Control:
        return self._renew(lease, lambda: self.store.touch(lease))

    def save(self, lease: Lease, progress: Progress) -> Control:
        return self._renew(lease, lambda: self.store.save(lease, progress))

    def _renew(self, lease: Lease, write: Callable[[], Control]) -> Control:
        """A store write that renews the lease, then beanstalkd's TTR of the entry."""
        try:
            control = write()
        except ReservationLost:
            self._lost(lease)
            raise
        held = self.entries.pool.holdings.get(lease.uuid, lease.token)
        if held is not None:
            try:
                still = self.entries.touch(held)
            except BackendError as exc:
                log.warning("touch: beanstalkd did not follow the store (%s)", exc)
                still = False
            if not still:  # beanstalkd gave the entry back; the store's lease goes on.
                self.entries.pool.holdings.take(lease.uuid, lease.token)
        return control

    def rescue_expired(self, limit: int = 100) -> list[str]:
        moved, effects = self.records.rescue(limit, self._entering("rescue:entered"))
        for item in moved:
            best_effort("rescue", functools.partial(self._moved, item))
        self._after(effects)
        try:
            self.reconciler.run()
        except BackendError:
            log.exception("the beanstalk reconciler failed; it runs again at the next rescue")
        return [item.uuid for item in moved]

    def act(self, uuid: str, action: str, worker: str | None = None) -> State:
        moved = self.records.act(uuid, action, worker, self._entering("act:entered"))
        best_effort(action, lambda: self._moved(moved))
        return moved.state

    def kick(self, queue: str, limit: int) -> int:
        moved = self.records.kick(queue, limit, self._entering("act:entered"))
        for item in moved:
            best_effort("kick", functools.partial(self._moved, item))
        return len(moved)

    def _moved(self, moved: Moved) -> None:
        """The entry follows a job an operator or the rescue moved (best effort, as in
        :meth:`_follow`)."""
        old = moved.old_bid
        if old is None or moved.state == State.RUNNING:
            return
        held = self.entries.pool.holdings.get(moved.uuid)
        mine = held if held is not None and held.bid == old else None
        if mine is not None:
            self.entries.pool.holdings.take(moved.uuid)
        if moved.state in READY:
            if moved.new_bid != old and not (mine and self.entries.delete_held(mine)):
                self.entries.delete(old)
        elif moved.state == State.FAILED:
            if mine is not None:
                self.entries.bury(mine)
        elif moved.state == State.PAUSED:
            if not (mine and self.entries.bury(mine)):
                self.entries.set_aside(old, moved.priority)
        elif not (mine and self.entries.delete_held(mine)):
            self.entries.delete(old)

    def pause_queue(self, queue: str, paused: bool) -> None:
        """The store holds the pause; beanstalkd's pause-tube mirrors it (see the package
        docstring), renewed by the reconciler."""
        self.store.pause_queue(queue, paused)
        self._recur.forget()  # a resumed queue's recurrences may be due.
        seconds = _reconcile.PAUSE_SECONDS if paused else 0
        best_effort("pause-tube", lambda: self.entries.pause(queue, seconds))

    def alter(self, uuid: str, change: Change, worker: str | None = None) -> Record:
        """The store alters the job, giving it a new entry where its place in beanstalkd
        changed (an entry's tube and priority are fixed); the old one is deleted after."""
        altered = self.records.alter(uuid, change, worker, self._entering("alter:entered"))
        record = altered.record
        if record["state"] == State.SCHEDULED:
            self._due.lower(record["ready_at"])
        self._after(altered.effects)
        return record

    def recur(self, recurrence: dict[str, Any]) -> None:
        self.store.recur(recurrence)
        self._recur.forget()

    def unrecur(self, recurrence_id: str) -> bool:
        self._recur.forget()
        return self.store.unrecur(recurrence_id)

    def update_recurrence(self, recurrence_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        self._recur.forget()
        return self.store.update_recurrence(recurrence_id, changes)

    def set_limit(self, name: str, maximum: int | None) -> None:
        """A limit that grew or went may let parked jobs run: their entries are kicked."""
        self.store.set_limit(name, maximum)
        self._limits.forget()
        self._after(self.records.unpark())

    def set_rate_limit(self, name: str, maximum: int | None, per: float) -> None:
        """Kept by the record store, checked at each claim (see ._sql_rates)."""
        self.store.set_rate_limit(name, maximum, per)

    def rate_limits(self) -> dict[str, tuple[int, float]]:
        return self.store.rate_limits()

    def ping(self, write: bool = False) -> None:
        """The record store's ping, and beanstalkd answering (its stats)."""
        self.store.ping(write)
        self.entries.stats()

    def delete(self, uuid: str, worker: str | None = None) -> bool:
        """The store deletes the job; then whatever entry it had left is deleted (after
        checking that it still names the job, as for prune)."""
        deleted, gone = self.records.delete(uuid)
        for bid, named in gone:
            best_effort("delete", functools.partial(self.entries.delete_named, bid, named))
        return deleted

    def prune(self, retention: Retention, limit: int = 1000) -> int:
        """The store deletes the jobs; then whatever entries they had left (normally none: a
        finished job's entry is deleted when it finishes) are deleted, each after checking
        that it still names its job (after a beanstalkd restart without a binlog, ids are
        given again from 1)."""
        count, gone = self.records.prune(retention, limit)
        for bid, uuid in gone:
            best_effort("prune", functools.partial(self.entries.delete_named, bid, uuid))
        return count


def refuse_fair_keys(batch: list[Record]) -> None:
    """beanstalkd cannot take a queue's jobs by fair key: it hands out a tube's ready entries
    strictly by (priority, entry id), and a reserve cannot ask for any other entry. Serving
    a small tenant's job behind a big one's backlog would mean reserving and giving back
    every entry ahead of it (thousands of round trips per claim), or a tube per key, which
    breaks the one tube per queue that pause, limits, kick and the reconciler rely on. A job
    with a fair key is refused rather than queued without fair share."""
    for record in batch:
        if record.get(flow.FAIR_KEY):
            raise NotSupported(
                "the beanstalk backend cannot share a queue fairly between keys (beanstalkd "
                "hands out a tube's entries by priority and id only); put the job without "
                f"fair_key, or use another backend (job {record.get('uuid')!r})"
            )
