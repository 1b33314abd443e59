"""beanstalk: a busy worker's batch (``settle_batch``) on a real beanstalkd.

The finished runs' entries are deleted and the next entries reserved in one buffer through
the first queue's reserver link, then the settlements and the claims are one store
transaction; what the batch leaves in beanstalkd is checked with stats-job.
"""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import greenstalk
import pytest

from tests.backends.support import beanstalkd
from tests.backends.support.beanstalk_fixtures import (  # noqa: F401
    beanstalk_backend,
    beanstalk_client,
    beanstalk_url,
)
from tests.backends.support.helpers import completed, events, put_job, reserve, take
from zerog.backends import open_backend
from zerog.backends.beanstalk import BeanstalkBackend
from zerog.errors import UnknownDependency
from zerog.model import Lease, Reservation, ReserveRequest, Settlement, State
from zerog.testing import FakeClock

REQUEST = ReserveRequest(queues=["q"], worker="w1")


def _bid(backend: BeanstalkBackend, uuid: str) -> int:
    """The id of the job's own entry, as the store says."""
    found = backend.records.entry_of(uuid)
    assert found is not None
    assert found[1] is not None
    return found[1]


def _entry_state(client: greenstalk.Client[str], bid: int) -> str | None:
    """beanstalkd's state of an entry; None when it has no such entry (NOT_FOUND)."""
    try:
        return str(client.stats_job(bid)["state"])
    except greenstalk.NotFoundError:
        return None


def _finish(reservations: list[Reservation]) -> list[tuple[Lease, Settlement]]:
    return [(reservation.lease, completed()) for reservation in reservations]


def _server_counts(client: greenstalk.Client[str]) -> dict[str, int]:
    stats: dict[str, Any] = dict(client.stats())
    return {name: int(stats[name]) for name in ("cmd-delete", "cmd-reserve-with-timeout")}


class _CountingSocket:
    """A socket that counts its sendall calls (one per round trip zerog starts)."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self.sent: list[bytes] = []

    def sendall(self, data: bytes) -> None:
        self.sent.append(bytes(data))
        self._sock.sendall(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


def _count_sends(backend: BeanstalkBackend, queue: str) -> _CountingSocket:
    """Count what the queue's reserver link sends from now on (it must be connected)."""
    link = backend.entries.pool.reserver(backend.entries.tube(queue))
    connected = link._client
    assert connected is not None
    counting = _CountingSocket(connected._sock)
    connected._sock = counting  # type: ignore[assignment]
    return counting


# --- completions and claims ---------------------------------------------------------------------


def test_a_batch_completes_its_runs_deletes_their_entries_and_claims_the_next(
    backend: BeanstalkBackend, client: greenstalk.Client[str]
) -> None:
    # Given three running jobs and three waiting ones
    uuids = [put_job(backend) for _ in range(6)]
    running = [take(backend) for _ in range(3)]
    finished_bids = [_bid(backend, r.lease.uuid) for r in running]
    # When the three complete and two jobs are claimed in one batch
    batch = backend.settle_batch(_finish(running), REQUEST, 2)
    # Then the three are complete and their entries gone from beanstalkd
    assert batch.lost == []
    for reservation, bid in zip(running, finished_bids, strict=True):
        assert backend.get(reservation.lease.uuid)["state"] == State.COMPLETE
        assert events(backend, reservation.lease.uuid) == ["put", "reserved", "completed"]
        assert _entry_state(client, bid) is None
    # And two more run, each with its entry reserved and held for its run
    assert len(batch.reservations) == 2
    for reservation in batch.reservations:
        uuid = reservation.lease.uuid
        assert backend.get(uuid)["state"] == State.RUNNING
        assert reservation.record["lease_token"] == reservation.lease.token
        assert _entry_state(client, _bid(backend, uuid)) == "reserved"
        held = backend.entries.pool.holdings.get(uuid, reservation.lease.token)
        assert held is not None
        assert held.bid == _bid(backend, uuid)
    assert [r.lease.uuid for r in batch.reservations] == uuids[3:5]
    # And the job left waits, with its entry ready
    assert backend.get(uuids[5])["state"] == State.WAITING
    assert _entry_state(client, _bid(backend, uuids[5])) == "ready"
    # And the claimed jobs settle as usual
    again = backend.settle_batch(_finish(batch.reservations), REQUEST, 5)
    assert again.lost == []
    assert [r.lease.uuid for r in again.reservations] == [uuids[5]]


def test_the_batch_is_one_round_trip_to_beanstalkd(
    backend: BeanstalkBackend, client: greenstalk.Client[str]
) -> None:
    # Given three running jobs (reserved through the queue's link) and three waiting ones
    for _ in range(6):
        put_job(backend)
    running = [take(backend) for _ in range(3)]
    bids = [_bid(backend, r.lease.uuid) for r in running]
    sends = _count_sends(backend, "q")
    before = _server_counts(client)
    # When they complete and three jobs are claimed
    batch = backend.settle_batch(_finish(running), REQUEST, 3)
    # Then the link sent one buffer: the three deletes, then the three reserves
    assert len(batch.reservations) == 3
    expected = b"".join(b"delete %d\r\n" % bid for bid in bids)
    assert sends.sent == [expected + b"reserve-with-timeout 0\r\n" * 3]
    # And beanstalkd ran exactly those commands
    after = _server_counts(client)
    assert after["cmd-delete"] - before["cmd-delete"] == 3
    assert after["cmd-reserve-with-timeout"] - before["cmd-reserve-with-timeout"] == 3
    # And the connection is still in step: the next batch reads its own answers
    again = backend.settle_batch(_finish(batch.reservations), REQUEST, 2)
    assert again.lost == []
    assert again.reservations == []
    assert len(sends.sent) == 2
    assert backend.counts()["q"]["complete"] == 6


def test_a_batch_claims_in_priority_order(backend: BeanstalkBackend) -> None:
    # Given a running job and waiting jobs of several priorities (lower runs first)
    put_job(backend, priority=-10)
    running = take(backend)
    by_priority = {priority: put_job(backend, priority=priority) for priority in (3, 1, 2, 0)}
    # When it completes and four jobs are claimed / Then they come in priority order
    batch = backend.settle_batch(_finish([running]), REQUEST, 4)
    assert [r.lease.uuid for r in batch.reservations] == [by_priority[p] for p in (0, 1, 2, 3)]


def test_a_batch_takes_what_the_queue_has_and_no_more(
    backend: BeanstalkBackend, client: greenstalk.Client[str]
) -> None:
    # Given a running job and two waiting ones, one queue
    put_job(backend)
    running = take(backend)
    waiting = [put_job(backend), put_job(backend)]
    before = _server_counts(client)
    # When it completes and eight are asked for / Then the two are claimed, and the tube
    # that ran dry is not asked again (eight reserves in the one buffer, none after)
    batch = backend.settle_batch(_finish([running]), REQUEST, 8)
    assert [r.lease.uuid for r in batch.reservations] == waiting
    after = _server_counts(client)
    assert after["cmd-reserve-with-timeout"] - before["cmd-reserve-with-timeout"] == 8


# --- lost leases ----------------------------------------------------------------------------------


def test_a_lease_timed_out_and_rescued_is_reported_lost_and_the_others_settle(
    backend: BeanstalkBackend, url: str, clock: FakeClock, client: greenstalk.Client[str]
) -> None:
    # Given three jobs running in a worker process, the second timed out by an operator and
    # rescued, then run by another worker; and a waiting job
    worker = open_backend(url, clock=clock)
    try:
        uuids = [put_job(backend) for _ in range(3)]
        running = [take(worker) for _ in range(3)]
        old_bid = _bid(backend, uuids[1])
        assert backend.act(uuids[1], "timeout") == State.RUNNING
        assert backend.rescue_expired() == [uuids[1]]
        rerun = take(backend, worker="w2")
        assert rerun.lease.uuid == uuids[1]
        waiting = put_job(backend)
        # When the first worker writes its three completions and claims one job
        batch = worker.settle_batch(_finish(running), REQUEST, 1)
        # Then the second is reported lost, and nothing was written for it
        assert batch.lost == [uuids[1]]
        assert backend.get(uuids[1])["state"] == State.RUNNING
        assert backend.get(uuids[1])["lease_token"] == rerun.lease.token
        assert events(backend, uuids[1])[-1] == "reserved"
        # And the others are complete, their entries gone
        for uuid in (uuids[0], uuids[2]):
            assert backend.get(uuid)["state"] == State.COMPLETE
            assert _entry_state(client, _bid(backend, uuid)) is None
        # And the lost run's old entry is gone, while its new run's entry is still held
        assert _entry_state(client, old_bid) is None
        assert _entry_state(client, _bid(backend, uuids[1])) == "reserved"
        # And the waiting job was claimed all the same
        assert [r.lease.uuid for r in batch.reservations] == [waiting]
    finally:
        worker.close()


def test_a_lease_expired_and_rescued_is_reported_lost(
    backend: BeanstalkBackend, clock: FakeClock
) -> None:
    # Given two running jobs, the first with a short lease that expires and is rescued
    short = put_job(backend, ttr_seconds=5.0)
    long = put_job(backend, ttr_seconds=60.0)
    running = [take(backend), take(backend)]
    clock.advance(6.0)
    assert backend.rescue_expired() == [short]
    # When both complete in one batch / Then the first is lost, the second complete, and
    # the rescued job runs again
    batch = backend.settle_batch(_finish(running), REQUEST, 2)
    assert batch.lost == [short]
    assert backend.get(long)["state"] == State.COMPLETE
    assert [r.lease.uuid for r in batch.reservations] == [short]
    assert events(backend, short)[-2:] == ["lease-expired", "reserved"]


# --- no request, several queues -------------------------------------------------------------------


def test_a_batch_with_no_request_settles_only(
    backend: BeanstalkBackend, client: greenstalk.Client[str]
) -> None:
    # Given two running jobs and a waiting one
    put_job(backend)
    put_job(backend)
    running = [take(backend), take(backend)]
    bids = [_bid(backend, r.lease.uuid) for r in running]
    waiting = put_job(backend)
    before = _server_counts(client)
    # When they complete with nothing to reserve
    batch = backend.settle_batch(_finish(running), None, 0)
    # Then both are complete, their entries deleted after the commit, and nothing reserved
    assert (batch.lost, batch.reservations) == ([], [])
    for reservation, bid in zip(running, bids, strict=True):
        assert backend.get(reservation.lease.uuid)["state"] == State.COMPLETE
        assert _entry_state(client, bid) is None
    after = _server_counts(client)
    assert after["cmd-reserve-with-timeout"] == before["cmd-reserve-with-timeout"]
    assert backend.get(waiting)["state"] == State.WAITING
    assert _entry_state(client, _bid(backend, waiting)) == "ready"


def test_an_empty_batch_with_no_request_does_nothing(
    backend: BeanstalkBackend, client: greenstalk.Client[str]
) -> None:
    before = dict(client.stats())
    batch = backend.settle_batch([], None, 3)
    assert (batch.lost, batch.reservations) == ([], [])
    after = dict(client.stats())
    for name in ("cmd-delete", "cmd-reserve-with-timeout", "cmd-put", "cmd-release"):
        assert after[name] == before[name]


def test_a_batch_takes_from_the_second_queue_when_the_first_is_empty(
    backend: BeanstalkBackend, client: greenstalk.Client[str]
) -> None:
    # Given two running jobs of "q" and three waiting ones in "later" only
    put_job(backend)
    put_job(backend)
    running = [take(backend), take(backend)]
    bids = [_bid(backend, r.lease.uuid) for r in running]
    later = [put_job(backend, "later") for _ in range(3)]
    # When they complete, reserving from "q" then "later"
    request = ReserveRequest(queues=["q", "later"], worker="w1")
    batch = backend.settle_batch(_finish(running), request, 3)
    # Then the jobs of "later" are claimed, in order, and the finished entries are gone
    assert [r.lease.uuid for r in batch.reservations] == later
    assert all(_entry_state(client, bid) is None for bid in bids)
    assert all(backend.get(r.lease.uuid)["state"] == State.COMPLETE for r in running)


def test_a_batch_takes_from_both_queues_when_the_first_runs_dry(
    backend: BeanstalkBackend,
) -> None:
    put_job(backend)
    running = take(backend)
    first = put_job(backend)
    later = [put_job(backend, "later") for _ in range(2)]
    request = ReserveRequest(queues=["q", "later"], worker="w1")
    batch = backend.settle_batch(_finish([running]), request, 3)
    assert [r.lease.uuid for r in batch.reservations] == [first, *later]


# --- the settlements' effects on what is claimed ------------------------------------------------


def test_a_dependent_the_batch_released_is_claimed_before_the_jobs_behind_it(
    backend: BeanstalkBackend, client: greenstalk.Client[str]
) -> None:
    # Given a running job, two jobs waiting behind it at a lower rank, and one depending on it
    first = put_job(backend)
    behind = [put_job(backend, priority=1), put_job(backend, priority=1)]
    dependent = put_job(backend, depends=[first])
    running = take(backend)
    assert running.lease.uuid == first
    # When it completes and two jobs are claimed (the two behind were reserved before the
    # completion released the dependent)
    batch = backend.settle_batch(_finish([running]), REQUEST, 2)
    # Then the dependent comes first, as settle-then-reserve would give it, and the job
    # left over waits with its entry given back
    assert [r.lease.uuid for r in batch.reservations] == [dependent, behind[0]]
    assert backend.get(behind[1])["state"] == State.WAITING
    assert _entry_state(client, _bid(backend, behind[1])) == "ready"


def test_a_full_queue_s_batch_claims_what_its_limit_allows(backend: BeanstalkBackend) -> None:
    # Given a queue limited to two running jobs, both running, and three waiting
    backend.set_limit("queue:q", 2)
    for _ in range(5):
        put_job(backend)
    running = [take(backend), take(backend)]
    assert reserve(backend) is None
    # When one completes and three are asked for / Then one is claimed (its slot), and the
    # others wait with their entries given back
    batch = backend.settle_batch(_finish(running[:1]), REQUEST, 3)
    assert len(batch.reservations) == 1
    assert backend.counts()["q"]["waiting"] == 2
    assert reserve(backend) is None


# --- failures -------------------------------------------------------------------------------------


def test_a_failed_transaction_gives_back_what_it_took_and_the_runs_are_rescued(
    backend: BeanstalkBackend, client: greenstalk.Client[str], clock: FakeClock
) -> None:
    # Given two running jobs and two waiting ones
    uuids = [put_job(backend) for _ in range(4)]
    running = [take(backend), take(backend)]
    waiting = uuids[2:]
    # When a batch's store transaction fails (a settlement the store refuses: here, one
    # naming an unknown dependency, which no worker sends; it stands for any store failure)
    refused = Settlement(state=State.COMPLETE, event="completed", depends=["no-such-job"])
    finished = [(running[0].lease, completed()), (running[1].lease, refused)]
    with pytest.raises(UnknownDependency):
        backend.settle_batch(finished, REQUEST, 2)
    # Then nothing was written: both still run, the waiting jobs wait, their entries ready
    for reservation in running:
        assert backend.get(reservation.lease.uuid)["state"] == State.RUNNING
    for uuid in waiting:
        assert events(backend, uuid) == ["put"]
        assert _entry_state(client, _bid(backend, uuid)) == "ready"
    # And the finished runs' entries, deleted before the commit, are given again by the
    # rescue once their leases expire, as if the worker had died before settling
    clock.advance(31.0)
    assert sorted(backend.rescue_expired()) == sorted(r.lease.uuid for r in running)
    for reservation in running:
        assert _entry_state(client, _bid(backend, reservation.lease.uuid)) == "ready"
    ran = {take(backend).lease.uuid for _ in range(4)}
    assert ran == {*waiting, *(r.lease.uuid for r in running)}


def test_a_batch_made_while_beanstalkd_is_down_is_kept(tmp_path: Path) -> None:
    # Given two running jobs, then beanstalkd stopping
    server = beanstalkd.Beanstalkd(tmp_path / "binlog").start()
    backend = open_backend(server.url(tmp_path / "zerog.db"))
    try:
        uuids = [put_job(backend), put_job(backend), put_job(backend)]
        running = [take(backend), take(backend)]
        server.stop()
        # When they complete and the worker asks for more / Then both are complete, nothing
        # is reserved
        batch = backend.settle_batch(_finish(running), REQUEST, 2)
        assert (batch.lost, batch.reservations) == ([], [])
        assert [backend.get(uuid)["state"] for uuid in uuids] == [
            State.COMPLETE,
            State.COMPLETE,
            State.WAITING,
        ]
        # And once beanstalkd is back, the entries it kept are cleaned up on delivery, and
        # the waiting job runs
        server.start()
        assert take(backend).lease.uuid == uuids[2]
        assert reserve(backend) is None
    finally:
        backend.close()
        server.stop()
