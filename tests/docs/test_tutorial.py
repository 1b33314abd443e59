"""docs/tutorial.md runs as written: its code blocks, in order, in an empty directory, on a
SQLite store, with real `zerog` commands and a real worker process (started in the
background by the tutorial itself and stopped by it with SIGTERM)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.docs.markdown import ROOT, as_shell_script
from tests.docs.running import SECONDS, run_page
from zerog.store import open_store

TUTORIAL = ROOT / "docs" / "tutorial.md"


@pytest.mark.slow
@pytest.mark.timeout(SECONDS + 60)
def test_the_tutorial_runs_as_written(short_dir: Path) -> None:
    # Given the tutorial's code as one script
    script = as_shell_script(TUTORIAL)
    assert "zerog worker" in script
    assert "cat > thumbnails.py" in script

    # When it runs in an empty directory
    code, output = run_page(script, short_dir)

    # Then every step succeeded, the refused values and the failed run included
    assert code == 0, output[-6000:]
    assert "refused" in output
    assert "the job failed" in output
    # And the store holds what the tutorial says: every job complete in the end, the paused
    # one resumed from its checkpoint rather than from its first photo
    store = open_store(f"sqlite:///{short_dir / 'zerog-tutorial' / 'tutorial.db'}")
    try:
        jobs = store.list(limit=50).records
        assert len(jobs) == 5
        assert {job["state"] for job in jobs} == {"complete"}
        listed = next(job for job in jobs if job["values"]["album"] == "archive")
        archive = store.get(listed["uuid"])
        starts = [e["msg"] for e in archive["events"] if "starting at photo" in e["msg"]]
        assert len(starts) == 2, starts
        assert not starts[1].startswith("archive: starting at photo 1 ")
    finally:
        store.close()
