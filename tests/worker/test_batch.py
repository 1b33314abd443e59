"""Batches: a worker claims several short jobs at once and writes their runs together, and
gives back what it claimed as soon as one of them runs long (a real Worker on SQLite)."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator, Sequence
from typing import Any

import pytest

import zerog
from tests.jobs import sample_jobs  # noqa: F401 - registers the job classes.
from tests.worker.pool import wait_until
from zerog.model import Lease, Reservation, Settlement, State
from zerog.record import JobSpec
from zerog.store import Store
from zerog.worker import Worker, batch, reports
from zerog.worker.batch import DEFAULT_BATCH, SPILL_SECONDS
from zerog.worker.loop import WorkerOptions
from zerog.worker.reports import Reporter, ReportReader
from zerog.worker.tracking import Child, Keeper


class Recorded:
    """The batches a worker wrote: (runs settled, jobs asked for) of each call."""

    def __init__(self, store: Store) -> None:
        self.calls: list[tuple[int, int]] = []
        original = store.settle_batch

        def settle_batch(
            finished: Sequence[tuple[Lease, Settlement]], then: Any, count: int, worker: str
        ) -> list[Reservation]:
            self.calls.append((len(finished), count))
            return original(finished, then, count, worker)

        store.settle_batch = settle_batch  # type: ignore[method-assign]


def short_jobs(count: int) -> list[str]:
    return [zerog.make_base_job({"mode": "ok"}, "test_behaviour").enqueue() for _ in range(count)]


def states(store: Store, uuids: list[str]) -> set[str]:
    return {str(store.get(uuid, history=False)["state"]) for uuid in uuids}


def events(store: Store, uuid: str) -> list[str]:
    return [entry["event"] for entry in store.get(uuid)["history"]]


@pytest.fixture
def worker_thread(sqlite: Store) -> Iterator[list[Worker]]:
    """Workers started by the test are stopped after it."""
    started: list[Worker] = []
    yield started
    for worker in started:
        worker.stop(now=True)


def test_short_jobs_are_claimed_and_written_in_batches(
    sqlite: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given 100 jobs that return at once (and "short" wide enough for a loaded machine)
    monkeypatch.setattr(batch, "SHORT_RUN_SECONDS", 1.0)
    monkeypatch.setattr(batch, "BATCH_SECONDS", 60.0)
    uuids = short_jobs(100)
    recorded = Recorded(sqlite)
    # When a worker runs them all
    worker = Worker(sqlite, ["tests"], burst=True)
    assert worker.run() == 100
    # Then every one completed, reserved and completed once each
    assert states(sqlite, uuids) == {State.COMPLETE}
    assert all(events(sqlite, uuid) == ["put", "reserved", "completed"] for uuid in uuids)
    # And the claims grew 1, 2, 4, ... (37 left for the seventh): eight writes, not 100
    asked = [count for _settled, count in recorded.calls if count]
    assert asked[:7] == [1, 2, 4, 8, 16, 32, DEFAULT_BATCH]
    assert len(recorded.calls) == 8
    assert sum(settled for settled, _count in recorded.calls) == 100


def test_batch_1_claims_and_writes_one_job_at_a_time(sqlite: Store) -> None:
    # Given 20 short jobs / When a worker with --batch 1 runs them
    uuids = short_jobs(20)
    recorded = Recorded(sqlite)
    worker = Worker(sqlite, ["tests"], burst=True, options=WorkerOptions(batch=1))
    assert worker.run() == 20
    # Then each write settled one run and claimed one job, as before batches existed
    assert states(sqlite, uuids) == {State.COMPLETE}
    assert all(settled <= 1 and count <= 1 for settled, count in recorded.calls)
    assert len(recorded.calls) == 21  # the first claim, then one per job (the last claims none)


def test_a_long_job_in_a_batch_gives_back_the_jobs_claimed_behind_it(
    sqlite: Store, worker_thread: list[Worker], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(batch, "SHORT_RUN_SECONDS", 1.0)  # a loaded machine's no-op is short.
    monkeypatch.setattr(batch, "BATCH_SECONDS", 60.0)
    # Given 20 short jobs, then one that runs for 4 s, then 10 short ones: the claims grow
    # 1, 2, 4, 8 (15 jobs), and the fifth claim takes 16, the long job among them
    before = short_jobs(20)
    long_job = zerog.make_base_job({"mode": "loop", "seconds": 4.0}, "test_behaviour").enqueue()
    behind = short_jobs(10)
    # When one worker thread runs them
    worker = Worker(sqlite, ["tests"])
    worker_thread.append(worker)
    threading.Thread(target=worker.run, daemon=True).start()
    wait_until(lambda: states(sqlite, [long_job]) == {State.RUNNING}, 10, "the long job runs")
    started = time.monotonic()
    # Then, while it runs, the jobs claimed behind it go back to the queue, attempt refunded
    wait_until(lambda: states(sqlite, behind) == {State.WAITING}, 5, "claimed jobs given back")
    assert time.monotonic() - started < SPILL_SECONDS + 1.5
    assert states(sqlite, [long_job]) == {State.RUNNING}
    for uuid in behind:
        record = sqlite.get(uuid)
        assert record["attempts"] == 0
        assert [h["event"] for h in record["history"]] == ["put", "reserved", "released"]
    # And the runs finished before it are written, not left running behind it
    assert states(sqlite, before) == {State.COMPLETE}
    # And after it, the worker takes the given-back jobs again and completes everything
    wait_until(lambda: states(sqlite, [long_job, *behind]) == {State.COMPLETE}, 15, "all done")
    assert sqlite.get(long_job)["attempts"] == 1


def test_a_draining_worker_gives_back_the_jobs_claimed_behind_its_running_job(
    sqlite: Store, worker_thread: list[Worker], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a worker whose batches would wait a minute before being given back, running a
    # long job with ten short ones claimed behind it (as in the test above)
    monkeypatch.setattr(batch, "SHORT_RUN_SECONDS", 1.0)
    monkeypatch.setattr(batch, "BATCH_SECONDS", 60.0)
    monkeypatch.setattr(batch, "SPILL_SECONDS", 60.0)
    short_jobs(20)
    long_job = zerog.make_base_job({"mode": "loop", "seconds": 4.0}, "test_behaviour").enqueue()
    behind = short_jobs(10)
    worker = Worker(sqlite, ["tests"])
    worker_thread.append(worker)
    threading.Thread(target=worker.run, daemon=True).start()
    # (running for real: a job claimed ahead is "running" in the store before it starts)
    wait_until(lambda: sqlite.get(long_job)["completeness"] == 0.5, 10, "the long job runs")
    assert states(sqlite, behind) == {State.RUNNING}  # claimed, waiting behind it.
    # When the worker is told to drain
    worker.stop()
    # Then the jobs behind the long one go back at the next heartbeat, while it still runs
    wait_until(lambda: states(sqlite, behind) == {State.WAITING}, 2, "claimed jobs given back")
    assert states(sqlite, [long_job]) == {State.RUNNING}


def test_a_dead_childs_unstarted_and_unwritten_jobs_go_back_without_an_error(
    sqlite: Store,
) -> None:
    # Given three jobs a child reported: one claimed ahead, one running, one run but unwritten;
    # and a fourth it claimed but died before reporting
    uuids = [zerog.make_base_job({"mode": "ok"}, "test_behaviour").enqueue() for _ in range(4)]
    leases = []
    for _ in uuids:
        reservation = sqlite.reserve(["tests"], "w1")
        assert reservation is not None
        leases.append(reservation.lease)
    ahead, running, ran, unreported = leases
    leases = leases[:3]
    read_fd, write_fd = os.pipe()
    child = Child(pid=1, slot=0, reader=ReportReader(read_fd))
    reporter = Reporter(write_fd)
    try:
        reporter.send(reports.HELLO, worker="w1", pid=1)
        for lease in leases:
            reporter.send(reports.START, uuid=lease.uuid, token=lease.token, ttr=30.0)
        for lease in (running, ran):
            reporter.send(reports.RUN, uuid=lease.uuid, token=lease.token)
        reporter.send(reports.RAN, uuid=ran.uuid, token=ran.token)
        child.take_reports()
        # When the child is found dead
        Keeper(sqlite).settle_orphans(child, "was killed by SIGKILL")
    finally:
        reporter.close()
        child.reader.close()
    # Then the running job is retried with "worker lost", its attempt counted
    record = sqlite.get(running.uuid)
    assert (record["state"], record["attempts"]) == (State.WAITING, 1)
    assert "worker lost" in record["errors"][-1]["msg"]
    # And the other three go back as released: no error, their attempt refunded
    for lease in (ahead, ran, unreported):
        record = sqlite.get(lease.uuid)
        assert (record["state"], record["attempts"], record["errors"]) == (State.WAITING, 0, [])
        assert record["history"][-1]["event"] == "released"


def test_nothing_waits_in_a_batch_past_a_third_of_its_shortest_ttr() -> None:
    # Given a batch holding a job with a 0.6 s TTR
    run_ahead = batch.RunAhead(16)
    run_ahead.claimed([Reservation(Lease("a", 1, "w"), {"ttr_seconds": 0.6})])
    now = time.monotonic()
    # Then it is due to be given back after 0.2 s, not after SPILL_SECONDS
    assert not run_ahead.stale(now)
    assert run_ahead.stale(now + 0.25)
    # And once it is empty again, nothing is due
    assert run_ahead.next() is not None
    assert not run_ahead.stale(now + 10)


def test_a_batch_holds_no_more_than_its_share_of_work() -> None:
    # Given runs of 5 ms, short enough to batch
    run_ahead = batch.RunAhead(64)
    sizes = [run_ahead.next_size()]
    for _ in range(4):
        for _ in range(sizes[-1]):
            run_ahead.ran(0.005)
        sizes.append(run_ahead.next_size())
    # Then the claims grow to what fits in BATCH_SECONDS (25 ms: five runs), and no further
    assert sizes == [1, 2, 4, 5, 5]
    # And one run of 50 ms sets the next claim back to one job
    run_ahead.ran(0.05)
    assert run_ahead.next_size() == 1


def test_long_jobs_put_together_run_together_on_idle_threads(
    sqlite: Store, worker_thread: list[Worker], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a worker of 4 threads warmed up by short jobs (its batches grown), and batches
    # that would wait a minute before being given back
    monkeypatch.setattr(batch, "SHORT_RUN_SECONDS", 1.0)
    monkeypatch.setattr(batch, "BATCH_SECONDS", 60.0)
    monkeypatch.setattr(batch, "SPILL_SECONDS", 60.0)
    warm = short_jobs(50)
    worker = Worker(sqlite, ["tests"], threads=4)
    worker_thread.append(worker)
    threading.Thread(target=worker.run, daemon=True).start()
    wait_until(lambda: states(sqlite, warm) == {State.COMPLETE}, 30, "the short jobs done")
    # When 4 long jobs come at once (one put: one claim could see them all)
    long = JobSpec(type="test_behaviour", queue="tests", values={"mode": "loop", "seconds": 1.5})
    started = time.monotonic()
    longs = sqlite.enqueue_many([long] * 4)
    wait_until(lambda: states(sqlite, longs) == {State.COMPLETE}, 60, "the long jobs done")
    # Then they ran side by side, one per idle thread, in about 1.5 s: none waited in another
    # thread's batch (one after another they take 6 s)
    assert time.monotonic() - started < 4.0
