"""The words of an attempt's figures, as ``zerog job`` prints them: the dashboard writes the
same (tests/dashboard/test_job_usage.py holds the same line)."""

from __future__ import annotations

from tests.dashboard.test_job_usage import FIGURES
from zerog.attempt_usage import describe


def test_the_figures_read_as_the_dashboard_writes_them() -> None:
    assert describe(FIGURES) == (
        "wall 12.50 s · CPU 3.25 s user + 0.50 s system (its process) · "
        "peak RSS 300 MiB (its own process, 40 MiB at start)"
    )


def test_a_threads_figures_say_whose_memory_it_is() -> None:
    shared = {**FIGURES, "scope": "thread", "threads": 4}
    assert "(its thread)" in describe(shared)
    assert "(the worker process, shared by 4 job threads, 40 MiB at start)" in describe(shared)
    assert describe(None) == "-"
