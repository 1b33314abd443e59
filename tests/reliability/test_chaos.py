"""Chaos: 2,000 jobs on two worker processes whose children are SIGKILLed at random every
0.5-2 s for the whole run. Nothing is lost, each job ends in one final state, no job ever had
two live leases, and each completed exactly once (see :mod:`tests.reliability.chaos`).

``make chaos`` runs the same with ``CHAOS_JOBS=10000``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.reliability.chaos import run_chaos
from zerog.store import Store

JOBS = int(os.environ.get("CHAOS_JOBS", "2000"))
TIMEOUT = float(os.environ.get("CHAOS_TIMEOUT", "600"))


@pytest.mark.slow
@pytest.mark.timeout(TIMEOUT + 120)
def test_chaos_nothing_lost_one_lease_at_a_time_each_job_completed_once(
    sqlite: Store, tmp_path: Path
) -> None:
    report = run_chaos(sqlite, tmp_path, JOBS, timeout=TIMEOUT)
    print(report.line())  # shown with -s (make chaos), and in the report of a failure.
    assert report.problems == [], "\n".join(report.problems[:20])
    assert report.states == {"complete": JOBS}
    assert report.kills >= report.seconds / 2.5  # killed all along: every 1.25 s on average.
    assert report.closings["completed"] == JOBS


SHORT_JOBS = int(os.environ.get("CHAOS_SHORT_JOBS", "5000"))


@pytest.mark.slow
@pytest.mark.timeout(TIMEOUT + 120)
def test_chaos_with_short_jobs_claimed_and_written_in_batches(
    sqlite: Store, tmp_path: Path
) -> None:
    # Jobs of about a millisecond: each worker thread claims them in batches and writes their
    # completions together, so a kill catches jobs claimed and not started, and runs done and
    # not written. Those go back to the queue (released); the same promises hold.
    report = run_chaos(
        sqlite, tmp_path, SHORT_JOBS, work_ms=2.0, kill_every=(0.2, 0.6), timeout=TIMEOUT
    )
    print(report.line())
    assert report.problems == [], "\n".join(report.problems[:20])
    assert report.states == {"complete": SHORT_JOBS}
    assert report.closings["completed"] == SHORT_JOBS
    assert report.kills >= 3
    assert report.closings["released"] > 0  # the kills did catch batches in flight.
