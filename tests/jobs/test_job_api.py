"""The seed's job-class API: make_base_job, enqueue, get_job."""

from __future__ import annotations

import marshmallow
import pytest

import zerog
from tests.jobs.sample_jobs import CountJob
from zerog import testing


@pytest.fixture
def store():
    with testing.memory_store() as store:
        yield store


def test_make_base_job_validates_and_builds_the_job(store):
    # Given valid values, When a job is made, Then it has them and nothing is stored yet.
    job = zerog.jobs.make_base_job({"target": 3, "note": "hi"}, "test_count")
    assert isinstance(job, CountJob)
    assert (job.target, job.done, job.note) == (3, 0, "hi")
    assert job.uuid
    assert store.counts() == {}


def test_invalid_values_give_errors_per_field_and_store_nothing(store):
    with pytest.raises(zerog.JobValidationError) as caught:
        zerog.jobs.make_base_job({"target": "many", "colour": "red"}, "test_count")
    assert caught.value.messages == {
        "target": ["Not a valid integer."],
        "colour": ["Unknown field."],
    }
    assert isinstance(caught.value, marshmallow.ValidationError)
    assert store.counts() == {}


def test_missing_required_field_is_named(store):
    with pytest.raises(zerog.JobValidationError) as caught:
        zerog.jobs.make_base_job({}, "test_count")
    assert list(caught.value.messages) == ["target"]


def test_unknown_job_type_names_the_registered_types(store):
    with pytest.raises(zerog.UnknownJobType) as caught:
        zerog.jobs.make_base_job({}, "no_such_type")
    assert "no_such_type" in str(caught.value)
    assert "test_count" in str(caught.value)


def test_enqueue_returns_the_uuid_and_stores_values_and_options(store):
    job = zerog.jobs.make_base_job({"target": 2}, "test_count")
    uuid = job.enqueue(priority=-5, tags=["a", "b"], ttr=30)
    assert uuid == job.uuid
    record = store.get(uuid)
    assert record["state"] == "waiting"
    assert record["queue"] == "tests"
    assert record["values"] == {"target": 2, "done": 0}
    assert (record["priority"], record["tags"], record["ttr_seconds"]) == (-5, ["a", "b"], 30)


def test_values_over_the_size_limit_are_refused_and_nothing_is_stored(store):
    job = zerog.jobs.make_base_job({"target": 1, "note": "x" * (2 << 20)}, "test_count")
    with pytest.raises(zerog.PayloadTooLarge, match="over the limit"):
        job.enqueue()
    assert store.counts() == {}


def test_negative_delay_is_refused(store):
    job = zerog.jobs.make_base_job({"target": 1}, "test_count")
    with pytest.raises(zerog.errors.InvalidOptions, match="delay"):
        job.enqueue(delay=-1)
    assert store.counts() == {}


def test_get_job_returns_fields_state_progress_events_and_history(store):
    uuid = zerog.jobs.make_base_job({"target": 2}, "test_count").enqueue()
    testing.drain()
    job = zerog.get_job(uuid)
    assert isinstance(job, CountJob)
    assert (job.state, job.completeness, job.done) == ("complete", 1.0, 2)
    assert [e["msg"] for e in job.events] == ["step 1", "step 2"]
    assert all("timeStamp" in e for e in job.events)
    assert job.result == {"counted": 2}
    events = [h["event"] for h in job.history]
    assert events == ["put", "reserved", "requeued", "reserved", "completed"]
    assert job.get_data()["state"] == "complete"


def test_get_job_of_unknown_uuid_raises_job_not_found(store):
    with pytest.raises(zerog.JobNotFound):
        zerog.get_job("nope")


def test_save_outside_a_run_is_a_clear_error(store):
    job = zerog.jobs.make_base_job({"target": 1}, "test_count")
    with pytest.raises(zerog.ZerogError, match="while the job runs"):
        job.save()


def test_immediate_mode_runs_the_job_at_enqueue():
    with testing.memory_store(immediate=True):
        uuid = zerog.jobs.make_base_job({"target": 3}, "test_count").enqueue()
        assert zerog.get_job(uuid).state == "complete"


def test_enqueue_with_depends_waits_for_the_other_job(store):
    first = zerog.jobs.make_base_job({"target": 1}, "test_count").enqueue()
    second = zerog.jobs.make_base_job({"target": 2}, "test_count").enqueue(depends=[first])
    assert store.get(second)["state"] == "depends"
    testing.drain(store)
    assert store.get(first)["state"] == "complete"
    assert store.get(second)["state"] == "complete"


def test_enqueue_unique_returns_the_waiting_job(store):
    first = zerog.jobs.make_base_job({"target": 1}, "test_count").enqueue(unique=True)
    again = zerog.jobs.make_base_job({"target": 1}, "test_count").enqueue(unique=True)
    assert again == first
    with pytest.raises(zerog.errors.DuplicateJob):
        zerog.jobs.make_base_job({"target": 1}, "test_count").enqueue(
            unique=True, on_duplicate="refuse"
        )


def test_a_ttl_shorter_than_the_delay_is_refused(store):
    job = zerog.jobs.make_base_job({"target": 1}, "test_count")
    with pytest.raises(zerog.errors.InvalidOptions, match="ttl"):
        job.enqueue(delay=60, ttl=30)
    assert store.counts() == {}
