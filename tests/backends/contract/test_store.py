"""Conformance through the facade: what the Store refuses never reaches any backend."""

from __future__ import annotations

from typing import Any

import pytest

from tests.backends.support.helpers import take
from zerog.backends.contract import Backend
from zerog.errors import InvalidOptions, NotSerializable, PayloadTooLarge
from zerog.model import ListQuery, Progress, State
from zerog.record import JobSpec
from zerog.settings import Settings
from zerog.store import Store

LIMIT = 200  # bytes of values and of a result the store below allows.


@pytest.fixture
def small(backend: Backend) -> Store:
    """A store over the backend with small size limits."""
    return Store(backend, Settings(max_values_bytes=LIMIT, max_result_bytes=LIMIT))


def _nothing_stored(backend: Backend) -> bool:
    return backend.list(ListQuery()).records == [] and not any(backend.counts().values())


def test_values_over_the_limit_are_refused(small: Store) -> None:
    # Given values of more than the limit / When enqueued
    with pytest.raises(PayloadTooLarge) as raised:
        small.enqueue(JobSpec(type="t", queue="q", values={"blob": "x" * LIMIT}))
    # Then the error gives the size and the limit, and nothing is stored
    assert raised.value.limit == LIMIT
    assert raised.value.size > LIMIT
    assert _nothing_stored(small.backend)


def test_values_that_are_not_json_are_refused(small: Store) -> None:
    # Given values holding an object JSON cannot hold / When enqueued
    with pytest.raises(NotSerializable):
        small.enqueue(JobSpec(type="t", queue="q", values={"when": object()}))
    # Then nothing is stored
    assert _nothing_stored(small.backend)


@pytest.mark.parametrize(
    "options",
    [
        {"delay_seconds": -1.0},
        {"ttl_seconds": 5.0, "delay_seconds": 5.0},
        {"ttl_seconds": 0.0},
        {"priority": 1.5},
        {"priority": "high"},
        {"priority": True},
        {"ttr_seconds": 0.0},
        {"max_retries": -1},
        {"queue": ""},
        {"type": ""},
    ],
)
def test_bad_options_are_refused(small: Store, options: dict[str, Any]) -> None:
    # Given a job with a bad option / When enqueued / Then InvalidOptions, and nothing stored
    spec: dict[str, Any] = {"type": "t", "queue": "q", **options}
    with pytest.raises(InvalidOptions):
        small.enqueue(JobSpec(**spec))
    assert _nothing_stored(small.backend)


def test_one_bad_job_in_a_batch_stores_none(small: Store) -> None:
    # Given a batch with one bad job / When enqueued together / Then none is stored
    with pytest.raises(InvalidOptions):
        small.enqueue_many(
            [JobSpec(type="t", queue="q"), JobSpec(type="t", queue="q", delay_seconds=-1.0)]
        )
    assert _nothing_stored(small.backend)


def test_a_checkpoint_over_the_limit_is_refused_and_the_old_one_kept(small: Store) -> None:
    # Given a running job with a checkpoint
    uuid = small.enqueue(JobSpec(type="t", queue="q", values={"step": 1}))
    lease = take(small.backend).lease
    # When it saves a checkpoint over the limit
    with pytest.raises(PayloadTooLarge):
        small.save(lease, Progress(values={"blob": "x" * LIMIT}))
    # Then the old checkpoint is kept and the job still runs
    record = small.backend.get(uuid)
    assert (record["values"], record["state"]) == ({"step": 1}, State.RUNNING)


def test_a_result_over_the_limit_is_refused_and_the_job_still_runs(small: Store) -> None:
    # Given a running job / When it completes with a result over the limit
    uuid = small.enqueue(JobSpec(type="t", queue="q"))
    lease = take(small.backend).lease
    with pytest.raises(PayloadTooLarge):
        small.complete(lease, "x" * LIMIT)
    # Then it is still running under the same lease, and can complete properly
    assert small.backend.get(uuid)["state"] == State.RUNNING
    small.complete(lease, "ok")
    assert small.backend.get(uuid)["result"] == "ok"


def test_enqueue_of_an_existing_uuid_is_refused(small: Store) -> None:
    # Given a job with a chosen uuid / When another is enqueued with it / Then it is refused
    small.enqueue(JobSpec(type="t", queue="q", uuid="chosen"))
    with pytest.raises(ValueError, match="chosen"):
        small.enqueue(JobSpec(type="t", queue="q", uuid="chosen"))
    assert len(small.backend.list(ListQuery()).records) == 1
