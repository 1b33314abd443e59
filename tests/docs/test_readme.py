"""The README's job runs as written: its "A job, end to end" section's code, in an empty
directory, with a real `zerog worker`."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.docs.markdown import ROOT, as_shell_script
from tests.docs.running import SECONDS, run_page
from zerog.store import open_store

README = ROOT / "README.md"


@pytest.mark.slow
@pytest.mark.timeout(SECONDS + 60)
def test_the_readme_job_runs_as_written(short_dir: Path) -> None:
    # Given the section's code as one script
    script = as_shell_script(README, "A job, end to end")
    assert "cat > resize.py" in script

    # When it runs in an empty directory
    code, output = run_page(script, short_dir)

    # Then it succeeded: the first job complete, the second put and waiting for a worker
    assert code == 0, output[-6000:]
    assert "complete" in output
    assert output.rstrip().endswith("waiting")
    store = open_store(f"sqlite:///{short_dir / 'jobs.db'}")
    try:
        states = sorted(job["state"] for job in store.list().records)
    finally:
        store.close()
    assert states == ["complete", "waiting"]
