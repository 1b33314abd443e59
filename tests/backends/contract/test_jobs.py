"""Conformance: storing jobs, and which job a reserve takes (order, delays, TTL, races)."""

from __future__ import annotations

import threading

import pytest

from tests.backends.conftest import ROLES
from tests.backends.support.helpers import events, job_record, put_job, reserve, take
from zerog.backends.contract import Backend, roles_of
from zerog.errors import JobNotFound, UnknownDependency
from zerog.model import State
from zerog.testing import FakeClock

# --- put and get ---------------------------------------------------------------------------


def test_put_then_get_returns_the_record_as_put(backend: Backend) -> None:
    # Given a new job's record
    record = job_record(
        backend, priority=3, values={"n": 1, "s": "é"}, tags=["a", "b"], ttl_seconds=100.0
    )
    # When it is put and read back
    backend.put(record)
    got = backend.get(record["uuid"])
    # Then the record is the same, with no history unless asked
    assert got == record
    assert "history" not in got


def test_get_returns_a_copy_the_caller_cannot_change_the_job_through(backend: Backend) -> None:
    # Given a stored job
    uuid = put_job(backend, values={"n": 1})
    # When the caller changes the record it got
    backend.get(uuid)["values"]["n"] = 2
    # Then the stored job is unchanged
    assert backend.get(uuid)["values"] == {"n": 1}


def test_get_of_an_unknown_uuid_raises_job_not_found(backend: Backend) -> None:
    # Given an empty store / When an unknown job is read / Then JobNotFound names it
    with pytest.raises(JobNotFound, match="no-such-job"):
        backend.get("no-such-job")


def test_put_refuses_a_duplicate_uuid_and_keeps_the_first(backend: Backend) -> None:
    # Given a stored job
    first = job_record(backend, uuid="same-id", values={"v": 1})
    backend.put(first)
    # When another job with that uuid is put
    with pytest.raises(ValueError, match="same-id"):
        backend.put(job_record(backend, uuid="same-id", values={"v": 2}))
    # Then the first job is untouched, with one put in its history
    assert backend.get("same-id") == first
    assert events(backend, "same-id") == ["put"]


def test_put_many_stores_every_job(backend: Backend) -> None:
    # Given three new jobs / When they are put at once
    records = [job_record(backend, values={"i": i}) for i in range(3)]
    backend.put_many(records)
    # Then each is stored and reserved in put order
    assert [take(backend).lease.uuid for _ in records] == [r["uuid"] for r in records]


def test_put_many_stores_none_when_one_put_fails(backend: Backend) -> None:
    # Given a batch whose second job depends on a job that does not exist
    first = put_job(backend)
    batch = [
        job_record(backend, depends=[first], unique="only-once"),
        job_record(backend, depends=["no-such-job"]),
    ]
    # When it is put, the whole batch is refused
    with pytest.raises(UnknownDependency):
        backend.put_many(batch)
    # Then nothing of it stays: not the first job, its link or its unique key
    with pytest.raises(JobNotFound):
        backend.get(batch[0]["uuid"])
    assert backend.get(first)["dependents"] == []
    assert backend.put(job_record(backend, unique="only-once")).outcome == "put"


# --- which job a reserve takes --------------------------------------------------------------


def test_reserve_returns_none_at_once_when_nothing_is_ready(backend: Backend) -> None:
    # Given a job in another queue
    put_job(backend, "other")
    # When an empty and an unknown queue are asked / Then there is nothing
    assert reserve(backend, "q", "never-used") is None


def test_lower_priority_number_is_reserved_first(backend: Backend) -> None:
    # Given jobs put with priorities 5, -1, 0
    later = put_job(backend, priority=5)
    urgent = put_job(backend, priority=-1)
    normal = put_job(backend, priority=0)
    # When they are reserved one by one / Then the lowest number comes first
    assert [take(backend).lease.uuid for _ in range(3)] == [urgent, normal, later]


def test_equal_priority_is_first_in_first_out(backend: Backend) -> None:
    # Given five jobs of one priority
    put = [put_job(backend) for _ in range(5)]
    # When they are reserved / Then in the order they were put
    assert [take(backend).lease.uuid for _ in put] == put


def test_first_queue_in_request_order_wins(backend: Backend) -> None:
    # Given a job in "b" put before a job in "a", and one in "c"
    in_b = put_job(backend, "b")
    in_a = put_job(backend, "a", priority=9)
    in_c = put_job(backend, "c", priority=-9)
    # When reserving from a, b, c in that order
    order = [take(backend, "a", "b", "c").lease.uuid for _ in range(3)]
    # Then each queue is emptied before the next, whatever the priorities
    assert order == [in_a, in_b, in_c]


def test_delayed_job_is_scheduled_until_due(backend: Backend, clock: FakeClock) -> None:
    # Given a job delayed by 10 s
    uuid = put_job(backend, delay_seconds=10.0)
    assert backend.get(uuid)["state"] == State.SCHEDULED
    # When 9.9 s pass / Then it is not reservable
    clock.advance(9.9)
    assert reserve(backend) is None
    # When it is due / Then it is reserved
    clock.advance(0.1)
    assert take(backend).lease.uuid == uuid


def test_due_scheduled_job_keeps_its_place_by_priority_and_put_order(
    backend: Backend, clock: FakeClock
) -> None:
    # Given a delayed job put before a waiting one
    delayed = put_job(backend, delay_seconds=5.0)
    waiting = put_job(backend)
    # When the delay has passed / Then the older job comes first
    clock.advance(5.0)
    assert [take(backend).lease.uuid for _ in range(2)] == [delayed, waiting]


def test_job_past_its_ttl_is_expired_and_never_reserved(backend: Backend, clock: FakeClock) -> None:
    # Given a job with a TTL of 10 s, and a job without TTL put after it
    short_lived = put_job(backend, ttl_seconds=10.0)
    other = put_job(backend)
    # When the TTL passes and a worker reserves
    clock.advance(10.0)
    reservation = take(backend)
    # Then the expired job is skipped and ends expired; the next job is reserved
    assert reservation.lease.uuid == other
    record = backend.get(short_lived)
    assert (record["state"], record["finished_at"]) == (State.EXPIRED, clock.now)
    assert events(backend, short_lived) == ["put", "expired"]
    assert reserve(backend) is None


def test_rescue_expires_ready_jobs_past_their_ttl(backend: Backend, clock: FakeClock) -> None:
    # Given a job with a TTL of 10 s
    uuid = put_job(backend, ttl_seconds=10.0)
    # When the TTL passes and rescue runs / Then the job is expired
    clock.advance(10.0)
    assert backend.rescue_expired() == [uuid]
    assert backend.get(uuid)["state"] == State.EXPIRED
    assert backend.rescue_expired() == []


# --- races -----------------------------------------------------------------------------------

THREADS = 8
JOBS = 120


def test_concurrent_reservers_each_get_a_different_job(backend: Backend) -> None:
    # Given many jobs and reservers that start together
    put = {put_job(backend) for _ in range(JOBS)}
    barrier = threading.Barrier(THREADS)
    taken: list[list[str]] = [[] for _ in range(THREADS)]
    failures: list[BaseException] = []

    def reserver(mine: list[str]) -> None:
        try:
            barrier.wait()
            while reservation := reserve(backend, worker=threading.current_thread().name):
                mine.append(reservation.lease.uuid)
        except BaseException as exc:
            failures.append(exc)

    # When they all reserve until nothing is left
    threads = [threading.Thread(target=reserver, args=(mine,)) for mine in taken]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Then every job was reserved exactly once
    assert failures == []
    everything = [uuid for mine in taken for uuid in mine]
    assert sorted(everything) == sorted(put)
    assert all(events(backend, uuid).count("reserved") == 1 for uuid in put)


def test_declared_roles_are_the_backends_own(
    backend: Backend, request: pytest.FixtureRequest
) -> None:
    # The table the suite selects tests by says what each backend really offers.
    name = request.node.callspec.params["backend_opener"]
    assert roles_of(backend) == ROLES[name]


def test_a_ping_reads_and_writes_without_changing_what_a_reader_sees(backend: Backend) -> None:
    uuid = put_job(backend)
    before = backend.get(uuid, history=True)
    backend.ping()
    backend.ping(write=True)
    assert backend.get(uuid, history=True) == before
    assert backend.counts() == {"q": {"waiting": 1}}
