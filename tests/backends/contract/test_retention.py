"""Conformance: config keys, per-queue statistics, retention of finished jobs, history caps."""

from __future__ import annotations

import pytest

from tests.backends.support.helpers import completed, put_job, take
from zerog import stats
from zerog.backends.contract import Backend
from zerog.errors import InvalidOptions, JobNotFound
from zerog.model import Retention, Settlement
from zerog.record import JobSpec, error_entry
from zerog.store import Store
from zerog.testing import FakeClock

KEEP_ALL = Retention(jobs_seconds=1e9, jobs_count=10**9, stats_days=30, histogram_days=7)

pytestmark = pytest.mark.roles("upkeep")


def test_config_keys_are_set_read_and_unset(store: Store) -> None:
    assert store.config() == {}
    store.set_config("heartbeat", 120)
    store.set_config("jobs-history-count", 1000)
    store.set_config("anything", {"a": [1]})
    assert store.config() == {"heartbeat": 120, "jobs-history-count": 1000, "anything": {"a": [1]}}
    store.set_config("anything", None)
    assert "anything" not in store.config()
    with pytest.raises(InvalidOptions):
        store.set_config("jobs-history-count", -3)
    with pytest.raises(InvalidOptions):
        store.set_config("heartbeat", "soon")


def test_the_heartbeat_config_is_the_lease_of_jobs_that_name_none(store: Store) -> None:
    store.set_config("heartbeat", 90)
    store.set_config("slow-heartbeat", 600)
    store.set_config("heartbeat-other", 7)
    assert store.get(store.enqueue(JobSpec(type="t", queue="q")))["ttr_seconds"] == 90
    assert store.get(store.enqueue(JobSpec(type="t", queue="slow")))["ttr_seconds"] == 600
    assert store.get(store.enqueue(JobSpec(type="t", queue="other")))["ttr_seconds"] == 7
    named = JobSpec(type="t", queue="slow", ttr_seconds=5)
    assert store.get(store.enqueue(named))["ttr_seconds"] == 5


def test_stats_count_waits_runs_failures_and_retries(store: Store, clock: FakeClock) -> None:
    for _ in range(3):
        store.enqueue(JobSpec(type="t", queue="q"))
    clock.advance(2.0)
    lease = store.reserve(["q"], "w").lease  # type: ignore[union-attr]
    clock.advance(90.0)
    store.complete(lease)
    lease = store.reserve(["q"], "w").lease  # type: ignore[union-attr]
    store.fail(lease, error_entry(clock.now, None, "broken"))
    lease = store.reserve(["q"], "w").lease  # type: ignore[union-attr]
    store.retry(lease, 5.0, error_entry(clock.now, None, "again"))
    summary = store.queue_stats("q")
    assert summary["wait"]["count"] == 3
    assert summary["run"]["count"] == 1
    assert summary["run"]["mean"] == pytest.approx(90.0)
    assert summary["run"]["histogram"][stats.bucket_of(90.0)] == 1
    assert summary["wait"]["histogram"][2] == 1  # the first waited 2 s
    assert (summary["failures"], summary["retries"]) == (1, 1)
    assert store.queue_stats("other")["wait"]["count"] == 0


def test_stats_merge_across_flushes_and_processes(backend: Backend, clock: FakeClock) -> None:
    delta = stats.StatsDelta(queue="q", day=stats.day_of(clock.now))
    delta.wait.add(1.0)
    delta.wait.add(3.0)
    backend.add_stats([delta])
    backend.add_stats([delta])
    stored = stats.summary(backend.stats("q", stats.day_of(clock.now)))
    assert stored["wait"]["count"] == 4
    assert stored["wait"]["mean"] == pytest.approx(2.0)
    assert stored["wait"]["std"] == pytest.approx(1.0)


def test_histogram_buckets_are_seconds_minutes_hours_then_days() -> None:
    assert [stats.bucket_of(s) for s in (0, 59.9, 60, 3599, 3600, 86399, 86400)] == [
        0,
        59,
        60,
        118,
        119,
        141,
        142,
    ]
    assert stats.bucket_of(10**9) == stats.BUCKETS - 1


def _complete(backend: Backend, count: int, clock: FakeClock) -> list[str]:
    done = []
    for _ in range(count):
        uuid = put_job(backend)
        backend.settle(take(backend).lease, completed())
        done.append(uuid)
        clock.advance(1.0)
    return done


def test_retention_keeps_the_newest_finished_jobs_by_count(
    backend: Backend, clock: FakeClock
) -> None:
    done = _complete(backend, 12, clock)
    failed = put_job(backend)
    Store(backend).fail(take(backend).lease, error_entry(clock.now, None, "kept"))
    waiting = put_job(backend)
    keep = Retention(jobs_seconds=1e9, jobs_count=5, stats_days=30, histogram_days=7)
    assert backend.prune(keep, limit=4) == 4
    assert backend.prune(keep, limit=100) == 3
    assert backend.prune(keep) == 0
    for uuid in done[:7]:
        with pytest.raises(JobNotFound):
            backend.get(uuid)
    assert [backend.get(u)["state"] for u in done[7:]] == ["complete"] * 5
    assert backend.get(failed)["state"] == "failed"
    assert backend.get(waiting)["state"] == "waiting"


def test_retention_drops_finished_jobs_older_than_the_history(
    backend: Backend, clock: FakeClock
) -> None:
    old = _complete(backend, 3, clock)
    clock.advance(1000.0)
    new = _complete(backend, 2, clock)
    keep = Retention(jobs_seconds=500.0, jobs_count=100, stats_days=30, histogram_days=7)
    assert backend.prune(keep) == 3
    assert [backend.get(u)["state"] for u in new] == ["complete", "complete"]
    with pytest.raises(JobNotFound):
        backend.get(old[0])


def test_maintain_enforces_the_jobs_history_count(store: Store, clock: FakeClock) -> None:
    store.set_config("jobs-history-count", 10)
    for _ in range(30):
        uuid = store.enqueue(JobSpec(type="t", queue="q"))
        store.complete(store.reserve(["q"], "w").lease)  # type: ignore[union-attr]
    assert store.maintain() == 20
    assert store.counts()["q"] == {"complete": 10}
    assert store.get(uuid)["state"] == "complete"


def test_old_stats_and_histograms_are_pruned(backend: Backend, clock: FakeClock) -> None:
    today = stats.day_of(clock.now)
    for days_ago in (0, 10, 40):
        delta = stats.StatsDelta(queue="q", day=today - days_ago * stats.DAY)
        delta.run.add(5.0)
        backend.add_stats([delta])
    backend.prune(KEEP_ALL)
    assert backend.stats("q", today)["run"]["histogram"][5] == 1
    ten = backend.stats("q", today - 10 * stats.DAY)
    assert (ten["run"]["count"], sum(ten["run"]["histogram"])) == (1, 0)
    assert backend.stats("q", today - 40 * stats.DAY)["run"]["count"] == 0


def test_a_job_keeps_at_most_max_job_history_entries(store: Store, clock: FakeClock) -> None:
    store.set_config("max-job-history", 5)
    uuid = store.enqueue(JobSpec(type="t", queue="q"))
    for _ in range(6):
        lease = store.reserve(["q"], "w").lease  # type: ignore[union-attr]
        store.requeue(lease, 0.0, None)
    history = store.get(uuid)["history"]
    assert len(history) == 5
    assert history[-1]["event"] == "requeued"


def test_jobs_history_count_of_1000_leaves_1000_of_5000_completed_jobs(store: Store) -> None:
    # The issue's own numbers: 5,000 completed jobs, jobs-history-count 1,000.
    store.set_config("jobs-history-count", 1000)
    uuids = store.enqueue_many(JobSpec(type="t", queue="q") for _ in range(5000))
    reservation = store.reserve(["q"], "w")
    while reservation is not None:
        finished = [(reservation.lease, Settlement.completed())]
        taken = store.settle_batch(finished, ["q"], 1, "w")
        reservation = taken[0] if taken else None
    assert store.counts()["q"] == {"complete": 5000}
    assert store.maintain() == 4000
    assert store.counts()["q"] == {"complete": 1000}
    kept = {r["uuid"] for r in store.list(state="complete", limit=500).records}
    assert kept <= set(uuids[-1000:])  # the newest are kept
