"""The generated reference pages (docs/reference/) match the code: a changed signature,
docstring, flag or route without `python tools/gen_reference.py` fails here."""

from __future__ import annotations

import subprocess
import sys

from tests.docs.markdown import ROOT

TOOL = ROOT / "tools" / "gen_reference.py"


def test_the_generated_reference_is_up_to_date() -> None:
    done = subprocess.run(
        [sys.executable, str(TOOL), "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def test_the_reference_covers_the_public_names_and_every_command() -> None:
    python = (ROOT / "docs" / "reference" / "python.md").read_text()
    for name in ("zerog.BaseJob", "zerog.make_base_job", "zerog.job_log.set_completeness"):
        assert f"### `{name}`" in python
    cli = (ROOT / "docs" / "reference" / "cli.md").read_text()
    for command in ("worker", "serve", "enqueue", "jobs", "demo"):
        assert f"## zerog {command}\n" in cli
    http = (ROOT / "docs" / "reference" / "http.md").read_text()
    assert "| GET | `/api/jobs/{uuid}` |" in http
