"""Each way a run ends is settled exactly once, as the seeds and API.md say."""

from __future__ import annotations

import pytest

import zerog
from tests.jobs import sample_jobs  # noqa: F401 - registers the job classes.
from zerog import testing
from zerog.record import JobSpec
from zerog.worker import backoff_seconds


@pytest.fixture
def store():
    with testing.memory_store() as store:
        yield store


def enqueue(mode: str, **values: object) -> str:
    return zerog.make_base_job({"mode": mode, **values}, "test_behaviour").enqueue()


def events(store, uuid: str) -> list[str]:
    return [h["event"] for h in store.get(uuid)["history"]]


def test_requeue_saves_the_checkpoint_and_resets_attempts(store):
    uuid = zerog.make_base_job({"target": 3}, "test_count").enqueue()
    # When it runs once, Then it is scheduled again with its fields saved.
    assert testing.drain(include_scheduled=False) == {"requeued": 1}
    record = store.get(uuid)
    assert (record["state"], record["values"]["done"], record["attempts"]) == ("scheduled", 1, 0)
    # When time passes, Then it resumes from the checkpoint and completes.
    testing.drain()
    assert store.get(uuid)["values"]["done"] == 3


def test_error_finish_fails_with_the_code_and_no_retry(store):
    uuid = enqueue("finish")
    assert testing.drain() == {"failed": 1}
    job = zerog.get_job(uuid)
    assert job.state == "failed"
    assert job.resultCode == 42
    assert next((e["errorCode"], e["msg"]) for e in job.errors) == (42, "cannot go on")
    assert job.attempts == 1


def test_error_continue_retries_with_backoff_then_succeeds(store):
    uuid = enqueue("continue", fail_times=2)
    assert testing.drain(include_scheduled=False) == {"retried": 1}
    record = store.get(uuid)
    assert record["state"] == "scheduled"
    assert 7.5 <= record["ready_at"] - store.clock() <= 12.5  # 10 s base, ±25% jitter.
    assert testing.drain() == {"retried": 1, "completed": 1}
    assert zerog.get_job(uuid).state == "complete"
    assert [e["errorCode"] for e in store.get(uuid)["errors"]] == [7, 7]


def test_retries_run_out_and_the_job_fails_with_its_traceback(store):
    uuid = enqueue("raise")
    assert testing.drain() == {"retried": 2, "failed": 1}  # MAX_RETRIES = 2: three attempts.
    record = store.get(uuid)
    assert (record["state"], record["attempts"]) == ("failed", 3)
    assert record["errors"][-1]["msg"] == "RuntimeError: boom"
    assert "Traceback" in record["errors"][-1]["traceback"]


def test_error_log_only_retries_without_storing_the_error(store):
    uuid = enqueue("log_only")
    testing.drain(include_scheduled=False)
    record = store.get(uuid)
    assert record["state"] == "scheduled"
    assert record["errors"] == []  # the seed: "not associated with the job datastore entry".


def test_a_bad_return_value_is_an_error_not_a_crash(store):
    uuid = enqueue("bad_return")
    testing.drain(include_scheduled=False)
    assert "must return (resume_at_epoch_seconds, requeue)" in store.get(uuid)["errors"][0]["msg"]


def test_a_job_of_an_unknown_type_fails_visibly(store):
    uuid = store.enqueue(JobSpec(type="ghost", queue="tests"))
    assert testing.drain() == {"failed": 1}
    assert "unknown job type 'ghost'" in store.get(uuid)["errors"][0]["msg"]


def test_backoff_doubles_with_jitter_and_is_capped():
    delays = [backoff_seconds(n, 2.0, 3600) for n in (1, 2, 3, 4)]
    for n, delay in enumerate(delays, start=1):
        assert 0.75 * 2**n <= delay <= 1.25 * 2**n
    assert backoff_seconds(40, 2.0, 60) <= 75
