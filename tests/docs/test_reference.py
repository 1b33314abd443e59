"""The generated reference pages (docs/reference/) match the code: a changed signature,
docstring, flag or route without `python tools/gen_reference.py` fails here."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

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


def test_the_check_notices_a_stale_page(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given the pages written afresh in a directory of the test's own
    spec = importlib.util.spec_from_file_location("gen_reference", TOOL)
    assert spec is not None
    assert spec.loader is not None
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    monkeypatch.setattr(tool, "OUT", tmp_path)
    monkeypatch.setattr(tool, "ROOT", tmp_path)
    assert tool.main([]) == 0
    assert tool.main(["--check"]) == 0
    # When one is edited by hand / Then --check says it is stale, and a run mends it
    page = tmp_path / "http.md"
    page.write_text(page.read_text() + "edited\n")
    assert tool.main(["--check"]) == 1
    assert tool.main([]) == 0
    assert "edited" not in page.read_text()
