"""A real Worker with real threads: heartbeats, cancel and pause of a running job, shutdown."""

from __future__ import annotations

import logging
import os
import threading
import time

import pytest

import zerog
from tests.jobs import sample_jobs
from zerog.backends.memory import MemoryBackend
from zerog.settings import Settings
from zerog.store import Store
from zerog.worker import Worker
from zerog.worker.loop import WorkerOptions


@pytest.fixture
def store():
    store = Store(MemoryBackend(), Settings(url="memory://", grace_seconds=0.5))
    previous = zerog.store._default
    zerog.use(store)
    yield store
    zerog.use(previous)


def wait_until(predicate, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.02)
    return value


def start_worker(store: Store, burst: bool = False) -> tuple[Worker, threading.Thread]:
    worker = Worker(store, ["tests"], threads=2, burst=burst)
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    return worker, thread


def state_of(store: Store, uuid: str) -> str:
    return str(store.get(uuid, history=False)["state"])


def test_cancel_reaches_a_running_job_and_it_ends_cancelled(store):
    uuid = zerog.make_base_job({"mode": "loop", "seconds": 30}, "test_behaviour").enqueue()
    worker, thread = start_worker(store)
    wait_until(lambda: state_of(store, uuid) == "running")
    # When an operator cancels it, Then it stops at its next job_log call.
    assert store.act(uuid, "cancel") == "running"
    wait_until(lambda: state_of(store, uuid) == "cancelled")
    worker.stop()
    thread.join(5)
    assert [h["event"] for h in store.get(uuid)["history"]][-2:] == [
        "cancel-requested",
        "cancelled",
    ]


def test_pause_keeps_the_checkpoint_and_resume_runs_it_again(store):
    uuid = zerog.make_base_job({"mode": "loop", "seconds": 30}, "test_behaviour").enqueue()
    worker, thread = start_worker(store)
    wait_until(lambda: state_of(store, uuid) == "running")
    store.act(uuid, "pause")
    wait_until(lambda: state_of(store, uuid) == "paused")
    record = store.get(uuid)
    assert record["attempts"] == 0  # a pause does not use up an attempt.
    worker.stop()
    thread.join(5)
    assert store.act(uuid, "resume") == "waiting"


def test_progress_is_written_while_the_job_runs(store):
    uuid = zerog.make_base_job({"mode": "loop", "seconds": 2}, "test_behaviour").enqueue()
    worker, thread = start_worker(store)
    wait_until(lambda: store.get(uuid, history=False)["completeness"] == 0.5)
    assert state_of(store, uuid) == "running"
    wait_until(lambda: state_of(store, uuid) == "complete")
    worker.stop()
    thread.join(5)


def test_stop_releases_what_still_runs_after_the_grace_period(store):
    uuid = zerog.make_base_job({"mode": "loop", "seconds": 30}, "test_behaviour").enqueue()
    worker, thread = start_worker(store)
    wait_until(lambda: state_of(store, uuid) == "running")
    worker.stop()
    thread.join(5)
    assert not thread.is_alive()
    record = store.get(uuid)
    assert (record["state"], record["attempts"]) == ("waiting", 0)
    assert record["history"][-1]["event"] == "released"


def test_burst_worker_runs_everything_ready_and_exits(store):
    uuids = [zerog.make_base_job({"mode": "ok"}, "test_behaviour").enqueue() for _ in range(20)]
    worker = Worker(store, ["tests"], threads=4, burst=True)
    assert worker.run() == 20
    assert {state_of(store, u) for u in uuids} == {"complete"}


def test_a_worker_that_lost_its_lease_cannot_settle(store):
    uuid = zerog.make_base_job({"mode": "loop", "seconds": 3}, "test_behaviour").enqueue(ttr=1)
    reservation = store.reserve(["tests"], "stale-worker")
    assert reservation is not None
    # Given the stale worker's lease expired and another worker took the job,
    time.sleep(1.1)
    store.rescue_expired()
    fresh = store.reserve(["tests"], "fresh-worker")
    assert fresh is not None
    assert fresh.lease.token == reservation.lease.token + 1
    # Then the stale worker's writes are refused.
    with pytest.raises(zerog.errors.ReservationLost):
        store.complete(reservation.lease)
    with pytest.raises(zerog.errors.ReservationLost):
        store.heartbeat(reservation.lease)
    assert state_of(store, uuid) == "running"


# --- shutdown, registry, retirement, reload (a worker on its own) ---------------------------


def pool_worker(store: Store, **options: object) -> tuple[Worker, threading.Thread]:
    worker = Worker(store, ["pool"], threads=2, options=WorkerOptions(**options))
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    return worker, thread


@pytest.mark.parametrize(("action", "final"), [("cancel", "cancelled"), ("pause", "paused")])
def test_a_job_asked_to_stop_ends_that_way_at_shutdown_not_released(
    store: Store, action: str, final: str
) -> None:
    # Given a job that never calls job_log, asked to stop while it runs
    uuid = zerog.make_base_job({"seconds": 30}, "pool_spin").enqueue(ttr=1.5)
    worker, thread = pool_worker(store)
    wait_until(lambda: state_of(store, uuid) == "running")
    store.act(uuid, action)
    # (the store says running as the reservation commits, a moment before the run is watched)
    wait_until(lambda: (runs := worker.heartbeat.running()) and runs[0].control == action)
    # When the worker shuts down / Then the job ends as asked, not back in its queue
    worker.stop(now=True)
    thread.join(5)
    assert state_of(store, uuid) == final
    assert store.get(uuid)["history"][-1]["event"] == final


def test_a_worker_registers_lists_its_jobs_and_unregisters(store: Store) -> None:
    uuid = zerog.make_base_job({"seconds": 30}, "pool_spin").enqueue(ttr=1.5)
    worker, thread = pool_worker(store)
    [entry] = wait_until(lambda: (found := store.workers()) and found[0]["jobs"] and found)
    assert (entry["id"], entry["jobs"], entry["queues"]) == (worker.worker_id, [uuid], ["pool"])
    assert entry["pid"] == os.getpid()
    worker.stop(now=True)
    thread.join(5)
    assert store.workers() == []


def test_a_worker_retires_after_max_jobs(store: Store) -> None:
    for _ in range(5):
        zerog.make_base_job({}, "pool_sleep").enqueue()
    worker = Worker(store, ["pool"], threads=1, options=WorkerOptions(max_jobs=3))
    # When it has taken 3 jobs, it stops reserving and returns
    assert worker.run() == 3
    assert worker.recycle_reason == "max-jobs (3)"
    assert store.counts()["pool"] == {"complete": 3, "waiting": 2}


def test_a_job_that_goes_silent_is_shown_stalled_and_logged_once(store, caplog):
    # Given a job that hangs without a word, with a stall threshold of 0.3 s
    caplog.set_level(logging.WARNING, logger="zerog.worker.heartbeat")
    job = zerog.make_base_job({"mode": "silent", "seconds": 2.5}, "test_behaviour")
    uuid = job.enqueue(stall_seconds=0.3)
    worker, thread = start_worker(store)

    # When it has run past the threshold, Then the store shows it stalled, lease alive
    record = wait_until(lambda: (r := store.get(uuid, history=False))["stalled"] and r)
    assert record["state"] == "running"
    assert record["lease_expires_at"] > store.clock()

    # And the worker logged it once, with the job's id, and the job still completes
    wait_until(lambda: state_of(store, uuid) == "complete")
    worker.stop()
    thread.join(5)
    logged = [r for r in caplog.records if getattr(r, "event", None) == "job.stalled"]
    assert len(logged) == 1
    assert logged[0].job_id == uuid  # type: ignore[attr-defined]


def test_save_raises_once_the_lease_is_gone(store):
    # Given a running job whose lease an operator ended (qless's timeout): it runs on,
    sample_jobs.SAVE_SEEN.clear()
    sample_jobs.SAVE_GATE.clear()
    uuid = zerog.make_base_job({}, "test_save_after_loss").enqueue()
    worker = Worker(store, ["tests"], threads=1)  # one thread: no second run meanwhile.
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    wait_until(lambda: state_of(store, uuid) == "running")
    store.timeout(uuid)
    # When it saves its checkpoint / Then save() raises, so it cannot go on as if it held it
    sample_jobs.SAVE_GATE.set()
    wait_until(lambda: sample_jobs.SAVE_SEEN)
    assert sample_jobs.SAVE_SEEN == ["ReservationLost"]
    wait_until(lambda: state_of(store, uuid) == "complete")  # its next run completes it.
    worker.stop()
    thread.join(5)
