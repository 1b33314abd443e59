"""Conformance: leases (reserve, touch, rescue, lost leases) and how a run settles."""

from __future__ import annotations

import pytest

from tests.backends.support.helpers import completed, events, put_job, reserve, take
from zerog.backends.contract import Backend
from zerog.errors import ReservationLost
from zerog.lifecycle import WORKER_LOST
from zerog.model import Attempts, Control, Lease, Progress, Settlement, State
from zerog.record import error_entry
from zerog.store import Store
from zerog.testing import FakeClock

# --- leases ---------------------------------------------------------------------------------


def test_reserve_starts_a_run_under_a_new_lease(backend: Backend, clock: FakeClock) -> None:
    # Given a waiting job with a 30 s TTR
    uuid = put_job(backend, ttr_seconds=30.0)
    clock.advance(1.0)
    # When worker w1 reserves it
    reservation = take(backend, worker="w1")
    # Then it runs under lease 1 of w1, until now + TTR
    assert reservation.lease == Lease(uuid, 1, "w1")
    record = backend.get(uuid)
    assert reservation.record == record
    assert record["state"] == State.RUNNING
    assert (record["attempts"], record["lease_token"], record["worker"]) == (1, 1, "w1")
    assert record["lease_expires_at"] == clock.now + 30.0
    assert record["started_at"] == clock.now
    assert record["control"] is None


def test_touch_renews_the_lease(backend: Backend, clock: FakeClock) -> None:
    # Given a job reserved with a 30 s TTR
    uuid = put_job(backend, ttr_seconds=30.0)
    lease = take(backend).lease
    # When 20 s later the worker touches it
    clock.advance(20.0)
    control = backend.touch(lease)
    # Then the lease runs 30 s from now and nothing is asked of the job
    assert control == Control.NONE
    assert backend.get(uuid)["lease_expires_at"] == clock.now + 30.0
    # And a rescue 29 s later moves nothing
    clock.advance(29.0)
    assert backend.rescue_expired() == []


def test_a_report_moves_updated_at_and_a_touch_does_not(backend: Backend, clock: FakeClock) -> None:
    # (zerog.stalls tells a silent job by its updated_at: only what the job reports moves it)
    # Given a job reserved at t0
    uuid = put_job(backend, ttr_seconds=30.0)
    lease = take(backend).lease
    started = clock.now
    # When 10 s later the worker only touches the lease
    clock.advance(10.0)
    backend.touch(lease)
    # Then updated_at stays at the start of the run
    assert backend.get(uuid)["updated_at"] == started
    # And when 10 s later the job reports progress, updated_at is then
    clock.advance(10.0)
    backend.save(lease, Progress(message="half way"))
    assert backend.get(uuid)["updated_at"] == clock.now


def test_expired_lease_is_rescued_and_the_next_reserve_gets_a_new_token(
    backend: Backend, clock: FakeClock
) -> None:
    # Given a job reserved by w1 whose lease expired
    uuid = put_job(backend, ttr_seconds=30.0)
    take(backend, worker="w1")
    clock.advance(30.0)
    # When rescue runs
    assert backend.rescue_expired() == [uuid]
    # Then the job waits again, held by nobody
    record = backend.get(uuid)
    assert (record["state"], record["worker"], record["lease_expires_at"]) == (
        State.WAITING,
        None,
        None,
    )
    assert events(backend, uuid) == ["put", "reserved", "lease-expired"]
    # And the next reserve runs it under token 2, as attempt 2
    again = take(backend, worker="w2")
    assert (again.lease.token, again.record["attempts"]) == (2, 2)


def test_a_lost_lease_can_write_nothing(backend: Backend, clock: FakeClock) -> None:
    # Given a job whose lease of w1 expired and that w2 now runs
    uuid = put_job(backend, ttr_seconds=30.0)
    old = take(backend, worker="w1").lease
    clock.advance(31.0)
    backend.rescue_expired()
    take(backend, worker="w2")
    before = backend.get(uuid, history=True)
    # When w1 touches, saves or settles with its old lease
    with pytest.raises(ReservationLost):
        backend.touch(old)
    with pytest.raises(ReservationLost):
        backend.save(old, Progress(completeness=0.5, values={"lost": True}))
    with pytest.raises(ReservationLost):
        backend.settle(old, completed("from a lost lease"))
    # Then nothing was written
    assert backend.get(uuid, history=True) == before


def test_a_settled_job_cannot_be_settled_again(backend: Backend) -> None:
    # Given a completed job
    put_job(backend)
    lease = take(backend).lease
    backend.settle(lease, completed())
    # When the same lease settles again / Then the lease is lost
    with pytest.raises(ReservationLost):
        backend.settle(lease, completed())


def test_rescue_fails_a_job_whose_attempts_are_used_up(backend: Backend, clock: FakeClock) -> None:
    # Given a job with no retries whose only attempt lost its worker
    uuid = put_job(backend, max_retries=0, ttr_seconds=30.0)
    take(backend)
    clock.advance(30.0)
    # When rescue runs
    assert backend.rescue_expired() == [uuid]
    # Then the job failed with "worker lost"
    record = backend.get(uuid)
    assert (record["state"], record["finished_at"]) == (State.FAILED, clock.now)
    assert record["errors"][-1]["msg"] == WORKER_LOST
    assert events(backend, uuid)[-1] == "failed-worker-lost"
    assert reserve(backend) is None


def test_rescue_moves_at_most_limit_jobs_oldest_first(backend: Backend, clock: FakeClock) -> None:
    # Given three running jobs whose leases expired
    put = [put_job(backend, ttr_seconds=10.0) for _ in range(3)]
    for _ in put:
        take(backend)
    clock.advance(10.0)
    # When rescue runs with a limit of 2, then again
    first = backend.rescue_expired(limit=2)
    second = backend.rescue_expired(limit=2)
    # Then the two put first move first, the third next
    assert (first, second) == (put[:2], put[2:])


# --- settling a run ---------------------------------------------------------------------------


def test_complete_records_the_result(store: Store, clock: FakeClock) -> None:
    # Given a running job
    uuid = put_job(store.backend)
    lease = take(store.backend).lease
    clock.advance(5.0)
    # When it completes with a result
    store.complete(lease, {"rows": 3}, result_code=200)
    # Then it is complete with its result, finished now, held by nobody
    record = store.backend.get(uuid)
    assert record["state"] == State.COMPLETE
    assert (record["result"], record["result_code"]) == ({"rows": 3}, 200)
    assert (record["completeness"], record["finished_at"]) == (1.0, clock.now)
    assert (record["worker"], record["lease_expires_at"], record["attempts"]) == (None, None, 1)
    assert events(store.backend, uuid)[-1] == "completed"


def test_requeue_resets_attempts_and_a_delay_schedules_the_job(
    store: Store, clock: FakeClock
) -> None:
    # Given a job running its second attempt
    uuid = put_job(store.backend)
    store.retry(take(store.backend).lease, 0.0, None)
    lease = take(store.backend).lease
    assert store.backend.get(uuid)["attempts"] == 2
    # When run() asks to run again in 60 s
    store.requeue(lease, 60.0, None)
    # Then it is scheduled for then, with its attempts reset
    record = store.backend.get(uuid)
    assert (record["state"], record["ready_at"], record["attempts"]) == (
        State.SCHEDULED,
        clock.now + 60.0,
        0,
    )
    assert (record["finished_at"], record["worker"]) == (None, None)
    assert events(store.backend, uuid)[-1] == "requeued"
    # And it runs again once due
    clock.advance(60.0)
    assert take(store.backend).lease.token == 3


def test_requeue_without_delay_waits_at_once(store: Store) -> None:
    # Given a running job / When it is requeued with no delay / Then it is ready now
    uuid = put_job(store.backend)
    store.requeue(take(store.backend).lease, 0.0, None)
    assert store.backend.get(uuid)["state"] == State.WAITING
    assert take(store.backend).lease.uuid == uuid


def test_retry_appends_the_error_and_keeps_the_attempt(store: Store, clock: FakeClock) -> None:
    # Given a running job
    uuid = put_job(store.backend)
    lease = take(store.backend).lease
    error = error_entry(clock.now, 7, "boom")
    # When its run fails and it is retried in 10 s
    store.retry(lease, 10.0, error)
    # Then the error is kept, the attempt counted, and the job scheduled
    record = store.backend.get(uuid)
    assert (record["state"], record["attempts"]) == (State.SCHEDULED, 1)
    assert record["errors"] == [error]
    entry = store.backend.get(uuid, history=True)["history"][-1]
    assert (entry["event"], entry["state"], entry["detail"]) == ("retried", "scheduled", "boom")
    # And the next run is attempt 2, after the delay
    assert reserve(store.backend) is None
    clock.advance(10.0)
    assert take(store.backend).record["attempts"] == 2


def test_fail_buries_the_job_with_its_error(store: Store, clock: FakeClock) -> None:
    # Given a running job / When it fails for good
    uuid = put_job(store.backend)
    store.fail(
        take(store.backend).lease, error_entry(clock.now, None, "bad input"), result_code=422
    )
    # Then it is failed, finished, with its error and code
    record = store.backend.get(uuid)
    assert (record["state"], record["finished_at"], record["result_code"]) == (
        State.FAILED,
        clock.now,
        422,
    )
    assert [e["msg"] for e in record["errors"]] == ["bad input"]
    assert reserve(store.backend) is None


def test_release_gives_the_job_back_with_the_attempt_refunded(store: Store) -> None:
    # Given a running job / When its worker releases it (shutting down)
    uuid = put_job(store.backend)
    store.release(take(store.backend).lease)
    # Then it waits again as if this attempt never happened
    record = store.backend.get(uuid)
    assert (record["state"], record["attempts"], record["worker"]) == (State.WAITING, 0, None)
    assert events(store.backend, uuid)[-1] == "released"
    assert take(store.backend).record["attempts"] == 1


def test_a_cancelled_settlement_ends_the_job(store: Store, clock: FakeClock) -> None:
    # Given a running job / When it stops because it was cancelled
    uuid = put_job(store.backend)
    store.settle(take(store.backend).lease, Settlement.cancelled())
    # Then it is cancelled and finished
    record = store.backend.get(uuid)
    assert (record["state"], record["finished_at"]) == (State.CANCELLED, clock.now)
    assert reserve(store.backend) is None


def test_a_paused_settlement_keeps_the_checkpoint_until_resumed(store: Store) -> None:
    # Given a running job / When it stops because it was paused, with a checkpoint
    uuid = put_job(store.backend, values={"done": 0})
    store.settle(take(store.backend).lease, Settlement.paused(Progress(values={"done": 40})))
    # Then it is paused with the checkpoint and its attempt refunded, and is not reserved
    record = store.backend.get(uuid)
    assert (record["state"], record["values"], record["attempts"]) == (
        State.PAUSED,
        {"done": 40},
        0,
    )
    assert reserve(store.backend) is None
    # And after a resume it runs from the checkpoint
    store.act(uuid, "resume")
    assert take(store.backend).record["values"] == {"done": 40}


# --- progress ---------------------------------------------------------------------------------


def test_save_writes_progress_and_renews_the_lease(backend: Backend, clock: FakeClock) -> None:
    # Given a running job
    uuid = put_job(backend, values={"step": 0}, ttr_seconds=30.0)
    lease = take(backend).lease
    clock.advance(10.0)
    # When it saves progress twice
    backend.save(
        lease,
        Progress(
            completeness=0.25,
            message="a quarter",
            sample=(clock.now, 0.25),
            events=[{"msg": "one"}],
            values={"step": 1},
        ),
    )
    backend.save(
        lease,
        Progress(
            completeness=1.5,
            events=[{"msg": "two"}],
            errors=[{"msg": "warn"}],
            sample=(clock.now + 1, 1.0),
        ),
    )
    # Then completeness (clamped), message, samples, events, errors and the checkpoint are kept
    record = backend.get(uuid)
    assert (record["completeness"], record["progress_message"]) == (1.0, "a quarter")
    assert record["samples"] == [[clock.now, 0.25], [clock.now + 1, 1.0]]
    assert record["events"] == [{"msg": "one"}, {"msg": "two"}]
    assert record["errors"] == [{"msg": "warn"}]
    assert record["values"] == {"step": 1}
    # And the lease is renewed, the job still running
    assert (record["state"], record["lease_expires_at"], record["updated_at"]) == (
        State.RUNNING,
        clock.now + 30.0,
        clock.now,
    )


def test_save_keeps_only_the_newest_events_and_errors(backend: Backend) -> None:
    # Given a running job that logged three events
    uuid = put_job(backend)
    lease = take(backend).lease
    backend.save(lease, Progress(events=[{"n": 1}, {"n": 2}, {"n": 3}], max_events=5))
    # When it logs three more, keeping 4, and three errors, keeping 2
    backend.save(
        lease,
        Progress(
            events=[{"n": 4}, {"n": 5}, {"n": 6}],
            max_events=4,
            errors=[{"e": 1}, {"e": 2}, {"e": 3}],
            max_errors=2,
        ),
    )
    # Then only the newest are kept
    record = backend.get(uuid)
    assert [e["n"] for e in record["events"]] == [3, 4, 5, 6]
    assert [e["e"] for e in record["errors"]] == [2, 3]


def test_save_skips_a_sample_equal_to_the_last(backend: Backend, clock: FakeClock) -> None:
    # Given a running job with one sample at 0.5
    uuid = put_job(backend)
    lease = take(backend).lease
    backend.save(lease, Progress(completeness=0.5, sample=(clock.now, 0.5)))
    # When the same completeness is sampled later / Then the samples do not grow
    backend.save(lease, Progress(completeness=0.5, sample=(clock.now + 5, 0.5)))
    assert backend.get(uuid)["samples"] == [[clock.now, 0.5]]


def test_save_does_not_share_objects_with_the_caller(backend: Backend) -> None:
    # Given a progress report whose values the caller changes after saving
    uuid = put_job(backend)
    values = {"n": 1}
    backend.save(take(backend).lease, Progress(values=values))
    values["n"] = 2
    # Then the stored checkpoint is the one saved
    assert backend.get(uuid)["values"] == {"n": 1}


def test_settle_writes_its_progress_too(backend: Backend, clock: FakeClock) -> None:
    # Given a running job with one event
    uuid = put_job(backend)
    lease = take(backend).lease
    backend.save(lease, Progress(events=[{"n": 1}]))
    # When it completes with final progress
    progress = Progress(completeness=0.9, message="done", events=[{"n": 2}], values={"out": 1})
    backend.settle(
        lease, Settlement(state=State.COMPLETE, event="completed", result="ok", progress=progress)
    )
    # Then the progress is kept, and completeness is 1.0 as the job completed
    record = backend.get(uuid)
    assert (record["completeness"], record["progress_message"]) == (1.0, "done")
    assert (record["events"], record["values"], record["result"]) == (
        [{"n": 1}, {"n": 2}],
        {"out": 1},
        "ok",
    )


def test_settle_with_attempts_policy_and_error(backend: Backend, clock: FakeClock) -> None:
    # Given a running job that logged an error
    uuid = put_job(backend)
    lease = take(backend).lease
    backend.save(lease, Progress(errors=[{"msg": "first"}]))
    # When it settles as waiting with another error and a refund
    backend.settle(
        lease,
        Settlement(
            state=State.WAITING,
            event="released",
            attempts=Attempts.REFUND,
            error={"msg": "second"},
            result_code=3,
        ),
    )
    # Then both errors are kept, the attempt refunded, the result code kept
    record = backend.get(uuid)
    assert [e["msg"] for e in record["errors"]] == ["first", "second"]
    assert (record["state"], record["attempts"], record["result_code"]) == (State.WAITING, 0, 3)
    assert record["ready_at"] == clock.now
