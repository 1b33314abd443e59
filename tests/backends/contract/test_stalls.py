"""Conformance: what the stall rule reads is kept alike on every backend (zerog.stalls): a
job's own stall policy, and the time its completeness last moved, which a log line or a
repeated completeness does not change."""

from __future__ import annotations

import pytest

from tests.backends.support.helpers import put_job, take
from zerog import stalls
from zerog.model import Progress
from zerog.store import Store
from zerog.testing import FakeClock

pytestmark = pytest.mark.roles("jobs")


def _save(store: Store, lease: object, clock: FakeClock, **progress: object) -> None:
    completeness = progress.get("completeness")
    sample = None if completeness is None else (clock(), completeness)
    store.save(lease, Progress(sample=sample, **progress))  # type: ignore[arg-type]


def test_a_jobs_own_stall_policy_is_kept(store: Store) -> None:
    uuid = put_job(store.backend, stall_policy="retry", stall_seconds=30.0)
    take(store.backend)
    record = store.get(uuid)
    assert (record["stall_policy"], record["stall_seconds"]) == ("retry", 30.0)
    listed = store.list(state="running").records
    assert [r.get("stall_policy") for r in listed] == ["retry"]
    assert store.get(put_job(store.backend)).get("stall_policy") is None


def test_logging_at_one_completeness_is_no_progress(store: Store, clock: FakeClock) -> None:
    # Given a running job, window 60 s, that reported 10 % at once
    store.set_config("stall-seconds", 60)
    uuid = put_job(store.backend, ttr_seconds=10_000.0)
    lease = take(store.backend).lease
    clock.advance(5)
    _save(store, lease, clock, completeness=0.1)
    moved = clock()
    # When it logs, and reports 10 % again, for 70 s
    for _ in range(7):
        clock.advance(10)
        _save(store, lease, clock, completeness=0.1, message="still at it")
    # Then it last progressed when it reached 10 %, and is stalled though never silent
    record = store.get(uuid)
    assert stalls.progressed_at(record) == pytest.approx(moved)
    assert record["updated_at"] == pytest.approx(clock())
    assert record["quiet_seconds"] == pytest.approx(70)
    assert record["stalled"] is True
    # And once it moves, it is not
    _save(store, lease, clock, completeness=0.2)
    assert store.get(uuid)["stalled"] is False
    assert [r["uuid"] for r in store.stalled()] == []
