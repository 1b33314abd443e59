"""Stalled jobs: running with a live lease, yet silent past their threshold (zerog.stalls)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import zerog
from tests.jobs import sample_jobs
from zerog.backends.memory import MemoryBackend
from zerog.errors import InvalidOptions
from zerog.model import Lease, Progress
from zerog.record import JobSpec
from zerog.settings import Settings
from zerog.store import Store
from zerog.testing import FakeClock

WORKER = "w1"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(clock: FakeClock) -> Iterator[Store]:
    made = Store(MemoryBackend(clock=clock), Settings(url="memory://"))
    yield made
    made.close()


def run_one(store: Store, queue: str = "q", **spec: object) -> str:
    """Enqueue a job with a long lease and reserve it: it is running, silent so far."""
    uuid = store.enqueue(JobSpec(type="t", queue=queue, ttr_seconds=10_000, **spec))  # type: ignore[arg-type]
    reservation = store.reserve([queue], WORKER)
    assert reservation is not None
    assert reservation.lease.uuid == uuid
    return uuid


def test_a_silent_running_job_stalls_after_the_configured_time(
    store: Store, clock: FakeClock
) -> None:
    # Given a running job and a stall threshold of 60 s
    store.set_config("stall-seconds", 60)
    uuid = run_one(store)

    # When 59 s pass, Then it is quiet but not stalled; at 60 s it is stalled
    clock.advance(59)
    record = store.get(uuid)
    assert record["quiet_seconds"] == 59
    assert record["stalled"] is False
    clock.advance(1)
    assert store.get(uuid)["stalled"] is True
    assert [r["uuid"] for r in store.stalled()] == [uuid]


def test_any_report_restarts_the_silence(store: Store, clock: FakeClock) -> None:
    # Given a job silent for 50 of its 60 s
    store.set_config("stall-seconds", 60)
    uuid = run_one(store)
    clock.advance(50)

    # When it writes a log line, Then its silence starts again
    store.save(_lease_of(store, uuid), Progress(message="still at it"))
    clock.advance(50)
    assert store.get(uuid)["quiet_seconds"] == 50
    assert store.get(uuid)["stalled"] is False


def test_a_heartbeat_alone_is_not_a_report(store: Store, clock: FakeClock) -> None:
    store.set_config("stall-seconds", 60)
    uuid = run_one(store)

    clock.advance(30)
    store.heartbeat(_lease_of(store, uuid))
    clock.advance(30)

    assert store.get(uuid)["stalled"] is True


def test_the_jobs_own_threshold_wins_then_its_queues_then_the_stores(
    store: Store, clock: FakeClock
) -> None:
    # Given thresholds at every level
    store.set_config("stall-seconds", 100)
    store.set_config("slow-stall-seconds", 1000)
    own = run_one(store, queue="slow", stall_seconds=10)
    by_queue = run_one(store, queue="slow")
    default = run_one(store, queue="q")

    # When 150 s pass, Then each is judged by the nearest threshold
    clock.advance(150)
    assert store.get(own)["stalled"] is True
    assert store.get(by_queue)["stalled"] is False
    assert store.get(default)["stalled"] is True
    assert [r["uuid"] for r in store.stalled("slow")] == [own]


def test_with_no_config_a_job_stalls_after_fifteen_minutes(store: Store, clock: FakeClock) -> None:
    uuid = run_one(store)
    clock.advance(899)
    assert store.get(uuid)["stalled"] is False
    clock.advance(1)
    assert store.get(uuid)["stalled"] is True


def test_a_job_whose_lease_expired_is_lost_not_stalled(store: Store, clock: FakeClock) -> None:
    store.set_config("stall-seconds", 60)
    uuid = store.enqueue(JobSpec(type="t", queue="q", ttr_seconds=30))
    assert store.reserve(["q"], WORKER) is not None

    clock.advance(61)

    record = store.get(uuid)
    assert record["stalled"] is False  # its worker is gone; the rescue will retry it.
    assert store.stalled() == []


def test_only_running_jobs_have_a_silence(store: Store) -> None:
    uuid = store.enqueue(JobSpec(type="t", queue="q"))

    record = store.get(uuid)

    assert record["quiet_seconds"] is None
    assert record["stalled"] is False


def test_stalled_jobs_come_longest_silent_first(store: Store, clock: FakeClock) -> None:
    store.set_config("stall-seconds", 10)
    first = run_one(store)
    clock.advance(5)
    second = run_one(store)
    clock.advance(20)

    assert [r["uuid"] for r in store.stalled()] == [first, second]


def test_bad_thresholds_are_refused_with_nothing_stored(store: Store) -> None:
    with pytest.raises(InvalidOptions, match="stall_seconds must be > 0"):
        store.enqueue(JobSpec(type="t", queue="q", stall_seconds=0))
    with pytest.raises(InvalidOptions, match="must be a number > 0"):
        store.set_config("stall-seconds", -1)
    with pytest.raises(InvalidOptions, match="must be a number > 0"):
        store.set_config("q-stall-seconds", "soon")
    assert store.counts() == {}
    assert "stall-seconds" not in store.config()


def test_a_job_class_sets_its_threshold_with_stall_seconds(store: Store) -> None:
    # Given a job class that reports rarely, with its own threshold
    class Rare(sample_jobs.BehaviourJob):
        JOB_TYPE = "test_rare_reporter"
        STALL_SECONDS = 7200

    # When one is enqueued, Then its record carries the threshold; enqueue() can override it
    job = Rare(mode="ok")
    assert store.get(job.enqueue(store=store))["stall_seconds"] == 7200
    other = zerog.make_base_job({"mode": "ok"}, "test_behaviour")
    assert store.get(other.enqueue(store=store, stall_seconds=30))["stall_seconds"] == 30


def _lease_of(store: Store, uuid: str) -> Lease:
    record = store.get(uuid, history=False)
    return Lease(uuid, record["lease_token"], WORKER)
