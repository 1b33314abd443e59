"""Conformance: ``settle_batch``, how a worker running short jobs writes several at a time.

A batch settles each finished run as ``settle`` would, reports a lost lease instead of
raising it (the others are settled all the same), then claims up to ``count`` jobs exactly as
that many ``reserve`` calls would.
"""

from __future__ import annotations

from tests.backends.support.helpers import completed, events, put_job, take
from zerog.backends.contract import Backend
from zerog.model import Lease, ListQuery, ReserveRequest, State
from zerog.testing import FakeClock


def request(*queues: str, worker: str = "w1") -> ReserveRequest:
    return ReserveRequest(queues=list(queues or ["q"]), worker=worker)


def test_a_batch_settles_every_run_and_claims_the_next_jobs_in_order(
    backend: Backend, clock: FakeClock
) -> None:
    # Given three running jobs and four waiting ones, one of them more urgent
    running = [put_job(backend) for _ in range(3)]
    leases = [take(backend).lease for _ in running]
    later = [put_job(backend) for _ in range(3)]
    urgent = put_job(backend, priority=-5)
    # When the three finish in one batch that claims three more
    clock.advance(1.0)
    finished = [(lease, completed(result=n)) for n, lease in enumerate(leases)]
    batch = backend.settle_batch(finished, request(), 3)
    # Then the three are complete with their results, and nothing was lost
    assert batch.lost == []
    for n, uuid in enumerate(running):
        record = backend.get(uuid, history=True)
        assert (record["state"], record["result"]) == (State.COMPLETE, n)
        assert record["history"][-1]["event"] == "completed"
    # And the claims took the urgent job first, then the oldest, each under a lease of its own
    claimed = [r.lease.uuid for r in batch.reservations]
    assert claimed == [urgent, *later[:2]]
    for reservation in batch.reservations:
        record = backend.get(reservation.lease.uuid)
        assert record["state"] == State.RUNNING
        assert (record["worker"], record["attempts"]) == ("w1", 1)
        assert reservation.lease == Lease(record["uuid"], record["lease_token"], "w1")
    assert backend.get(later[2])["state"] == State.WAITING


def test_a_lost_lease_is_reported_and_the_others_are_settled(
    backend: Backend, clock: FakeClock
) -> None:
    # Given two running jobs, one of which an operator timed out (rescued: its lease is over)
    first, second = put_job(backend), put_job(backend)
    leases = [take(backend).lease, take(backend).lease]
    backend.act(first, "timeout")
    assert backend.rescue_expired() == [first]
    # When both runs are written in one batch
    batch = backend.settle_batch([(lease, completed()) for lease in leases], request(), 1)
    # Then the first is reported lost and not completed, the second completed
    assert batch.lost == [first]
    assert "completed" not in events(backend, first)
    assert backend.get(second)["state"] == State.COMPLETE
    # And the claim still happened: the rescued job was the next one ready, under a new lease
    assert [r.lease.uuid for r in batch.reservations] == [first]
    assert batch.reservations[0].lease.token == leases[0].token + 1


def test_a_batch_without_a_request_only_settles(backend: Backend) -> None:
    # Given a running job and a waiting one
    uuid = put_job(backend)
    lease = take(backend).lease
    waiting = put_job(backend)
    # When its run is written with no request (the worker is stopping)
    batch = backend.settle_batch([(lease, completed())], None, 5)
    # Then it is complete and nothing is claimed
    assert (batch.lost, batch.reservations) == ([], [])
    assert backend.get(uuid)["state"] == State.COMPLETE
    assert backend.get(waiting)["state"] == State.WAITING


def test_a_batch_claims_from_the_next_queue_when_the_first_is_empty(backend: Backend) -> None:
    # Given jobs only in the second of two queues
    jobs = [put_job(backend, queue="b") for _ in range(2)]
    # When a batch with nothing to settle claims up to three from a, then b
    batch = backend.settle_batch([], request("a", "b"), 3)
    # Then it took b's two, in order
    assert [r.lease.uuid for r in batch.reservations] == jobs
    assert [r.record["queue"] for r in batch.reservations] == ["b", "b"]


def test_a_batch_claims_no_more_than_is_ready(backend: Backend, clock: FakeClock) -> None:
    # Given one job ready and one scheduled for later
    ready = put_job(backend)
    put_job(backend, delay_seconds=60.0)
    # When a batch asks for five
    batch = backend.settle_batch([], request(), 5)
    # Then it claimed the ready one only
    assert [r.lease.uuid for r in batch.reservations] == [ready]
    # And once the other is due, the next batch claims it
    clock.advance(61.0)
    assert len(backend.settle_batch([], request(), 5).reservations) == 1


def test_a_completion_in_a_batch_releases_its_dependents(backend: Backend) -> None:
    # Given a job and another that depends on it
    first = put_job(backend)
    lease = take(backend).lease
    dependent = put_job(backend, depends=[first])
    assert backend.get(dependent)["state"] == State.DEPENDS
    # When the first completes in a batch that claims the next job
    batch = backend.settle_batch([(lease, completed())], request(), 2)
    # Then the dependent was released, and claimed by the same batch
    assert [r.lease.uuid for r in batch.reservations] == [dependent]
    assert backend.get(dependent)["state"] == State.RUNNING


def test_jobs_can_be_listed_by_the_worker_holding_them(backend: Backend) -> None:
    # Given two jobs running under w1 and one under w2 (what a supervisor looks for when a
    # child died between a claim and its report)
    jobs = [put_job(backend) for _ in range(3)]
    batch = backend.settle_batch([], request(worker="w1"), 2)
    take(backend, worker="w2")
    # When the running jobs of w1 are listed
    page = backend.list(ListQuery(state=State.RUNNING, worker="w1"))
    # Then they are the two it claimed, newest first
    assert [r["uuid"] for r in page.records] == [r.lease.uuid for r in batch.reservations][::-1]
    assert set(jobs) - {r["uuid"] for r in page.records} == {jobs[2]}
