"""Every relative link in the README and the docs points at a file the repository has (and,
with an anchor, at a heading that page has): a moved or renamed page breaks this test, not a
reader's click."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.docs.markdown import ROOT, anchors, pages, relative_links


def repository_files() -> set[Path]:
    """The files git tracks or would add (untracked, not ignored): build output does not
    count, a page written but not yet committed does."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    return {(ROOT / name).resolve() for name in listed}


def broken_links(page: Path, files: set[Path]) -> list[str]:
    broken = []
    for target in relative_links(page):
        where, _, anchor = target.partition("#")
        path = (page.parent / where).resolve() if where else page.resolve()
        exists = path in files or any(path in f.parents for f in files)
        if not exists or ROOT.resolve() not in (path, *path.parents):
            broken.append(f"{target}: no such file in the repository")
        elif anchor and path.suffix == ".md" and anchor not in anchors(path):
            broken.append(f"{target}: {path.name} has no heading #{anchor}")
    return broken


@pytest.mark.parametrize("page", pages(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_points_at_a_file_of_the_repository(page: Path) -> None:
    assert broken_links(page, repository_files()) == []


def test_the_checker_sees_a_broken_link(tmp_path: Path) -> None:
    # Given a page with a good link, a link to a missing file and one to a missing heading
    page = ROOT / "docs" / "_links_probe.md"
    page.write_text(
        "# Probe\n[ok](tutorial.md) [gone](no-such-page.md) [bad](tutorial.md#no-such)\n"
        "`[in code](ignored.md)`\n"
    )
    try:
        # When it is checked / Then the two broken ones are reported, and only those
        found = broken_links(page, repository_files())
    finally:
        page.unlink()
    assert found == [
        "no-such-page.md: no such file in the repository",
        "tutorial.md#no-such: tutorial.md has no heading #no-such",
    ]
