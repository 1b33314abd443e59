"""``zerog demo``: the quickstart runs to the end, without a terminal, and says so."""

from __future__ import annotations

import pytest

from tests.cli.conftest import Zerog, one_line_error
from zerog.cli import EXIT_OK, EXIT_USAGE


@pytest.mark.slow
def test_demo_runs_every_job_to_complete_and_prints_a_summary(zerog: Zerog) -> None:
    # When the demo runs with stdout a pipe (as in CI), four times faster than for people
    done = zerog("demo", "--speed", "4", timeout=110)

    # Then it exits 0 and its summary lists every job complete, the flaky one after a retry
    assert done.returncode == EXIT_OK, done.stdout + done.stderr
    summary = done.stdout[done.stdout.index("summary") :]
    for label in (
        "Quarterly report",
        "Customer report",
        "Crawl 40 pages",
        "Flaky upstream",
        "Seed skeleton",
    ):
        assert label in summary
    assert summary.count("complete") >= 5
    assert "recovered from: upstream unavailable (attempt 1)" in summary
    assert "all 5 jobs complete." in done.stdout


def test_demo_refuses_a_store_that_processes_cannot_share(zerog: Zerog) -> None:
    done = zerog("demo", "--url", "memory://")

    assert done.returncode == EXIT_USAGE
    assert "cannot be shared between processes" in one_line_error(done.stderr)
