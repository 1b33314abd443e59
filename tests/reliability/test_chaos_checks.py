"""The chaos checkers find what they are meant to find (fed made-up histories)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from tests.reliability.chaos import ChaosReport, check_effects, check_leases


def entry(at: float, event: str, state: str, worker: str | None = None) -> dict[str, Any]:
    return {"at": at, "event": event, "state": state, "worker": worker, "detail": None}


def record(*history: dict[str, Any], state: str = "complete", token: int = 1) -> dict[str, Any]:
    return {
        "uuid": "j",
        "state": state,
        "lease_token": token,
        "ttr_seconds": 2.0,
        "history": [entry(0.0, "put", "waiting"), *history],
    }


def problems_of(job: dict[str, Any], lines: Counter[int] | None = None) -> list[str]:
    report = ChaosReport(jobs=1)
    closed = check_leases(job, report)
    check_effects(job, closed, lines if lines is not None else Counter({1: 1}), report)
    return report.problems


def test_a_clean_history_passes() -> None:
    job = record(
        entry(1.0, "reserved", "running", "a"),
        entry(4.0, "lease-expired", "waiting"),
        entry(4.5, "reserved", "running", "b"),
        entry(5.0, "completed", "complete", "b"),
        token=2,
    )
    # The first run left its side effect before it was lost: allowed, and counted.
    assert problems_of(job, Counter({1: 1, 2: 1})) == []


def test_two_live_leases_are_found() -> None:
    job = record(
        entry(1.0, "reserved", "running", "a"),
        entry(1.5, "reserved", "running", "b"),
        entry(2.0, "completed", "complete", "b"),
        token=2,
    )
    assert any("while lease 1 was live" in p for p in problems_of(job, Counter({2: 1})))


def test_a_rescue_before_the_lease_could_expire_is_found() -> None:
    job = record(
        entry(1.0, "reserved", "running", "a"),
        entry(1.5, "lease-expired", "waiting"),
        entry(2.0, "reserved", "running", "b"),
        entry(2.5, "completed", "complete", "b"),
        token=2,
    )
    assert any("before it could have expired" in p for p in problems_of(job, Counter({2: 1})))


def test_a_settlement_by_another_worker_is_found() -> None:
    job = record(entry(1.0, "reserved", "running", "a"), entry(2.0, "completed", "complete", "b"))
    assert any("settled by another" in p for p in problems_of(job))


def test_a_second_completion_side_effect_is_found() -> None:
    job = record(entry(1.0, "reserved", "running", "a"), entry(2.0, "completed", "complete", "a"))
    assert any("side effect 2 times" in p for p in problems_of(job, Counter({1: 2})))


def test_a_missing_final_state_is_found() -> None:
    job = record(entry(1.0, "reserved", "running", "a"), state="running")
    assert any("not exactly one final state" in p for p in problems_of(job, Counter()))
