"""Which stall policy a job has (zerog.stalls.policy): its own, its queue's, the store's,
else alert; and what is refused."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import zerog
from zerog import stalls
from zerog.backends.memory import MemoryBackend
from zerog.errors import InvalidOptions
from zerog.record import JobSpec
from zerog.settings import Settings
from zerog.store import Store


@pytest.fixture
def store() -> Iterator[Store]:
    made = Store(MemoryBackend(), Settings(url="memory://"))
    yield made
    made.close()


class Careful(zerog.BaseJob):
    JOB_TYPE = "stall_careful"
    QUEUE_NAME = "careful"
    STALL_POLICY = "pause"


def test_the_jobs_own_policy_wins_then_its_queues_then_the_stores(store: Store) -> None:
    store.set_config("stall-policy", "retry")
    store.set_config("slow-stall-policy", "cancel")
    own = store.get(store.enqueue(JobSpec(type="t", queue="slow", stall_policy="pause")))
    by_queue = store.get(store.enqueue(JobSpec(type="t", queue="slow")))
    by_store = store.get(store.enqueue(JobSpec(type="t", queue="q")))
    config = store.config()
    assert [stalls.policy(r, config) for r in (own, by_queue, by_store)] == [
        "pause",
        "cancel",
        "retry",
    ]
    assert stalls.policy(by_store, {}) == "alert"


def test_a_job_class_names_its_policy_and_enqueue_overrides_it(store: Store) -> None:
    by_class = store.get(Careful().enqueue(store=store))
    given = store.get(Careful().enqueue(store=store, stall_policy="cancel"))
    assert (by_class["stall_policy"], given["stall_policy"]) == ("pause", "cancel")


def test_an_unknown_policy_is_refused(store: Store) -> None:
    with pytest.raises(InvalidOptions, match="stall_policy"):
        store.enqueue(JobSpec(type="t", queue="q", stall_policy="explode"))
    with pytest.raises(InvalidOptions, match="stall-policy"):
        store.set_config("q-stall-policy", "explode")
    store.set_config("q-stall-policy", None)  # unsetting is always allowed.
