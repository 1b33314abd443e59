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
