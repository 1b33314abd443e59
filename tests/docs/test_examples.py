"""The other pages' examples run as written: each page's code blocks, in order, in an empty
directory (the deferrable and qless faces with a real `zerog worker`; the scheduling
operations on a SQLite store; the testing page's tests under pytest)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.docs.markdown import ROOT, as_shell_script
from tests.docs.running import SECONDS, run_page


@pytest.mark.slow
@pytest.mark.timeout(SECONDS + 60)
@pytest.mark.parametrize(
    ("page", "expected"),
    [
        ("faces.md", ["stats of team-42", "stats of team-7", "profit from 3 underpants"]),
        ("scheduling.md", ["album holidays: 9 resized, 1 failed"]),
        ("testing-your-jobs.md", ["2 passed"]),
    ],
)
def test_the_page_s_examples_run_as_written(
    page: str, expected: list[str], short_dir: Path
) -> None:
    # Given the page's code as one script, on a store of its own
    script = f'export ZEROG_URL="sqlite:///$PWD/jobs.db"\n{as_shell_script(ROOT / "docs" / page)}'

    # When it runs in an empty directory / Then it succeeds and says what the page says
    code, output = run_page(script, short_dir)
    assert code == 0, output[-6000:]
    for line in expected:
        assert line in output
