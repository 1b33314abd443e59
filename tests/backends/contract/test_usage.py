"""Conformance: a settlement's figures of the run (``Settlement.usage``) are kept in the
record as ``usage``, the latest attempt's, on every backend; an error entry carries its own."""

from __future__ import annotations

from dataclasses import replace

from tests.backends.support.helpers import put_job, take
from zerog.backends.contract import Backend
from zerog.model import Settlement
from zerog.record import error_entry
from zerog.testing import FakeClock

FIGURES = {
    "wall_seconds": 1.5,
    "cpu_user_seconds": 0.25,
    "cpu_system_seconds": 0.125,
    "peak_rss_bytes": 300 << 20,
    "start_rss_bytes": 40 << 20,
    "scope": "process",
    "pid": 1234,
}


def test_a_completed_run_keeps_its_figures(backend: Backend, clock: FakeClock) -> None:
    # Given a running job
    uuid = put_job(backend)
    lease = take(backend).lease
    # When its run completes with its figures
    backend.settle(lease, replace(Settlement.completed(), usage=FIGURES))
    # Then the record holds them, as they were given
    assert backend.get(uuid)["usage"] == FIGURES


def test_each_attempt_replaces_the_figures_and_its_error_keeps_its_own(
    backend: Backend, clock: FakeClock
) -> None:
    # Given a job whose first run failed with its figures in the error and the settlement
    uuid = put_job(backend)
    lease = take(backend).lease
    first = {**FIGURES, "wall_seconds": 9.0}
    error = {**error_entry(clock.now, None, "boom"), "usage": first}
    backend.settle(lease, replace(Settlement.retried(0.0, error), usage=first))
    assert backend.get(uuid)["usage"] == first
    # When its second run completes
    clock.advance(1.0)
    lease = take(backend).lease
    backend.settle(lease, replace(Settlement.completed(), usage=FIGURES))
    # Then the record shows the latest figures, and the first attempt's stay in its error
    record = backend.get(uuid)
    assert record["usage"] == FIGURES
    assert record["errors"][-1]["usage"] == first


def test_a_run_settled_without_figures_has_none(backend: Backend, clock: FakeClock) -> None:
    # Given a job settled by a writer that measured nothing (a supervisor, an old worker)
    uuid = put_job(backend)
    backend.settle(take(backend).lease, Settlement.completed())
    # Then it has no figures
    assert backend.get(uuid).get("usage") is None
