"""beanstalkd commands on tube entries, with beanstalkd's answers turned into zerog's.

Every command is best effort where the store already decided: NOT_FOUND on a delete, bury,
release or kick means the entry is gone or is not ours to move, and whoever holds it next
asks the store what it is for (see the package docstring). Server answers that mean a
misconfigured or struggling beanstalkd (JOB_TOO_BIG, DRAINING, OUT_OF_MEMORY, ...) become
:class:`~zerog.errors.BackendError` naming the cause.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import greenstalk

from zerog.backends.beanstalk._conn import TIMED_OUT, Client, Held, Link, Pipelined, Pool
from zerog.backends.beanstalk._records import Claim, EntryInfo, Verdict
from zerog.backends.beanstalk._wire import (
    body_of,
    priority_of,
    ttr_of,
    tube_of,
    uuid_of,
    whole_seconds,
)
from zerog.errors import BackendError, BackendUnavailable

log = logging.getLogger(__name__)

T = TypeVar("T")

MIN_HELD_DELAY_SECONDS = 1  # an entry of a job whose lease is live comes back no sooner.


@contextlib.contextmanager
def answers() -> Iterator[None]:
    """Turn beanstalkd's error answers into zerog's errors."""
    try:
        yield
    except greenstalk.JobTooBigError as exc:
        raise BackendError(
            "beanstalkd refused a tube entry as too big (JOB_TOO_BIG): its max job size "
            "(beanstalkd -z) is below the few bytes of a job's uuid; raise it"
        ) from exc
    except greenstalk.DrainingError as exc:
        raise BackendUnavailable(
            "beanstalkd is draining (it got SIGUSR1) and takes no new jobs"
        ) from exc
    except (greenstalk.OutOfMemoryError, greenstalk.InternalError) as exc:
        raise BackendUnavailable(f"beanstalkd failed: {type(exc).__name__}") from exc
    except greenstalk.BuriedError as exc:
        raise BackendUnavailable(
            "beanstalkd ran out of memory and buried a tube entry instead of queueing it"
        ) from exc
    except greenstalk.BeanstalkdError as exc:
        raise BackendError(f"beanstalkd answered {type(exc).__name__}") from exc


@dataclass(frozen=True)
class Exchange:
    """What one buffer of deletes and reserves on a tube's reserver link did."""

    link: Link  # the link that holds the entries reserved.
    deleted: frozenset[int]  # the held entries deleted (by id).
    jobs: list[greenstalk.Job[str]]  # the entries reserved, in beanstalkd's order.
    ended: bytes | None  # why the reserves stopped short (TIMED_OUT, DEADLINE_SOON, an error).

    @property
    def timed_out(self) -> bool:
        """Whether the reserves stopped short only because the tube had nothing ready (not
        DEADLINE_SOON, which a plain reserve meets by touching, nor an error)."""
        return self.ended == TIMED_OUT


def _job(bid: int) -> greenstalk.Job[str]:
    return greenstalk.Job(bid, "")


class Entries:
    """The tube entries of one backend: its pool of links and its tube prefix."""

    def __init__(self, pool: Pool, prefix: str) -> None:
        self.pool = pool
        self.prefix = prefix

    def tube(self, queue: str) -> str:
        """The tube of ``queue``."""
        return tube_of(self.prefix, queue)

    def _command(self, command: Callable[[Client], T]) -> T:
        with answers():
            return self.pool.command().call(command)

    # --- new entries -------------------------------------------------------------------------

    def put(self, info: EntryInfo) -> int:
        """Put a new entry for a job; returns its id."""
        tube, body = self.tube(info.queue), body_of(info.uuid)
        priority = priority_of(info.priority)
        delay, ttr = whole_seconds(info.delay_seconds), ttr_of(info.ttr_seconds)
        link = self.pool.command()

        def put(client: Client) -> int:
            link.use(client, tube)
            return client.put(body, priority=priority, delay=delay, ttr=ttr)

        with answers():
            return link.call(put)

    def enter(self, info: EntryInfo) -> int:
        """Give a job a deliverable entry, keeping its old one (and so its place in the
        tube) where it can: released if this backend holds it, kicked if delayed or buried,
        kept if ready; otherwise a new one is put. Returns the entry's id."""
        if info.bid is not None and self._reuse(info, info.bid):
            return info.bid
        return self.put(info)

    def _reuse(self, info: EntryInfo, bid: int) -> bool:
        held = self.pool.holdings.get(info.uuid)
        if held is not None and held.bid == bid:
            self.pool.holdings.take(info.uuid)
            delay = whole_seconds(info.delay_seconds)
            if self.release(held, priority_of(info.priority), delay):
                return True
        state = self.state(bid)
        if state == "ready":
            return True
        if state == "delayed" and info.delay_seconds > 0:
            return True
        return state in ("delayed", "buried") and self.kick(bid)

    # --- reserving ---------------------------------------------------------------------------

    def reserve_now(self, tube: str) -> tuple[Link, greenstalk.Job[str]] | None:
        """Reserve the next ready entry of ``tube`` without waiting; None when there is none.

        When none is ready and the link holds an entry in its last TTR second, beanstalkd
        answers DEADLINE_SOON instead of TIMED_OUT: the entries this link holds are touched
        and the reserve tried once more (their leases are the store's business; this only
        keeps beanstalkd from giving them back under a worker that is still running them)."""
        link = self.pool.reserver(tube)

        def reserve(client: Client) -> greenstalk.Job[str] | None:
            link.watch_only(client, tube)
            try:
                return client.reserve(timeout=0)
            except greenstalk.TimedOutError:
                return None

        for _ in range(2):
            try:
                with answers():
                    job = link.call(reserve)
            except BackendError as exc:
                if not isinstance(exc.__cause__, greenstalk.DeadlineSoonError):
                    raise
                for held in self.pool.holdings.of_link(link):
                    self.touch(held)
                continue
            return None if job is None else (link, job)
        return None

    def delete_and_reserve_many(self, tube: str, helds: Sequence[Held], count: int) -> Exchange:
        """Delete the held entries that ``tube``'s reserver link holds (the others are left
        for the caller) and reserve up to ``count`` entries of ``tube`` through that link, in
        one round trip (see :meth:`Client.delete_and_reserve_many`). With entries to delete
        the command is not sent again on a new connection: they died with the old one."""
        link = self.pool.reserver(tube)
        with link.lock:
            bids = [held.bid for held in helds if held.link is link and link.holds(held.generation)]

            def exchange(client: Client) -> Pipelined:
                link.watch_only(client, tube)
                return client.delete_and_reserve_many(bids, count)

            with answers():
                done = link.call(exchange, retry=not bids)
        deleted = frozenset(bid for bid, gone in zip(bids, done.deleted, strict=True) if gone)
        return Exchange(link, deleted, done.jobs, done.ended)

    def dispose(self, link: Link, bid: int, claim: Claim) -> None:
        """Do with a reserved entry what the store's verdict says (anything but CLAIMED)."""
        priority = priority_of(claim.priority)
        verdict = claim.verdict
        if verdict in (Verdict.STALE, Verdict.DONE):
            self._on(link, lambda client: client.delete(bid))
        elif verdict in (Verdict.BURY, Verdict.THROTTLED):
            self._on(link, lambda client: client.bury(_job(bid), priority))
        else:
            delay = whole_seconds(claim.delay_seconds)
            if verdict is Verdict.HELD:
                delay = max(MIN_HELD_DELAY_SECONDS, delay)
            self._on(link, lambda client: client.release(_job(bid), priority, delay))

    def give_back(self, link: Link, bid: int) -> None:
        """Release an entry reserved by ``link`` at once, with the priority it had (its
        claim failed); best effort: if this fails, beanstalkd gives it back at its TTR."""

        def release(client: Client) -> None:
            client.release(_job(bid), int(client.stats_job(bid)["pri"]), 0)

        with contextlib.suppress(BackendError):
            self._on(link, release)

    @staticmethod
    def _on(link: Link, command: Callable[[Client], Any]) -> bool:
        try:
            with answers():
                link.call(command, retry=False)
        except BackendError as exc:
            if isinstance(exc.__cause__, greenstalk.NotFoundError):
                return False
            raise
        return True

    # --- entries held for running jobs ---------------------------------------------------------

    def touch(self, held: Held) -> bool:
        """Renew beanstalkd's TTR of a held entry; False when it is no longer held."""
        return self._held(held, lambda client: client.touch(_job(held.bid)))

    def release(self, held: Held, priority: int, delay: int) -> bool:
        """Give a held entry back to its tube (after ``delay`` seconds)."""
        return self._held(held, lambda client: client.release(_job(held.bid), priority, delay))

    def bury(self, held: Held) -> bool:
        """Set a held entry aside (its job failed or was paused)."""
        return self._held(held, lambda client: client.bury(_job(held.bid), held.priority))

    def delete_held(self, held: Held) -> bool:
        """Delete a held entry (its job is finished, or it is stale)."""
        return self._held(held, lambda client: client.delete(held.bid))

    @staticmethod
    def _held(held: Held, command: Callable[[Client], Any]) -> bool:
        try:
            with answers():
                return held.call(command)
        except BackendError as exc:
            if isinstance(exc.__cause__, greenstalk.NotFoundError):
                return False
            raise

    # --- entries by id -----------------------------------------------------------------------

    def delete(self, bid: int) -> bool:
        """Delete an entry that is ready, delayed, buried or reserved by this thread."""
        return self._by_id(lambda client: client.delete(bid))

    def delete_named(self, bid: int, uuid: str) -> bool:
        """Delete an entry if it still names job ``uuid`` (peeked first: an id may have been
        given again to another job's entry by a beanstalkd restarted without a binlog)."""

        def delete(client: Client) -> None:
            if uuid_of(client.peek(bid).body) == uuid:
                client.delete(bid)

        return self._by_id(delete)

    def kick(self, bid: int) -> bool:
        """Make a delayed or buried entry ready."""
        return self._by_id(lambda client: client.kick_job(bid))

    def set_aside(self, bid: int, priority: int) -> bool:
        """Bury an entry that is ready or delayed (an operator paused its job): reserve it
        by id, then bury it, so that resume kicks it back with its place kept."""

        def reserve_and_bury(client: Client) -> None:
            job = client.reserve_job(bid)
            try:
                client.bury(job, priority_of(priority))
            except greenstalk.BeanstalkdError:
                client.release(job, priority_of(priority), 0)
                raise

        return self._by_id(reserve_and_bury)

    def state(self, bid: int) -> str | None:
        """ready, delayed, reserved or buried; None when there is no such entry."""
        try:
            return str(self._command(lambda client: client.stats_job(bid))["state"])
        except BackendError as exc:
            if isinstance(exc.__cause__, greenstalk.NotFoundError):
                return None
            raise

    def _by_id(self, command: Callable[[Client], Any]) -> bool:
        try:
            self._command(command)
        except BackendError as exc:
            if isinstance(exc.__cause__, greenstalk.NotFoundError):
                return False
            raise
        return True

    # --- tubes and the server ----------------------------------------------------------------

    def pause(self, queue: str, seconds: int) -> None:
        """pause-tube the queue's tube (0: resume); a tube that does not exist (no entry, no
        watcher) needs no pause."""
        tube = self.tube(queue)
        self._by_id(lambda client: client.pause_tube(tube, seconds))

    def stats(self) -> dict[str, Any]:
        """The server's stats."""
        return dict(self._command(lambda client: client.stats()))
