"""The Makefile's promises to a newcomer: `make demo` installs zerog alone, `make test` all
the suite needs. Read through make's own dry run (`make -n -B`), so what is checked is what
make would run, variables and prerequisites included."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def dry_run(target: str) -> list[str]:
    """The commands `make TARGET` would run from scratch (every prerequisite out of date)."""
    make = shutil.which("make")
    if make is None:
        pytest.fail("make is missing")
    done = subprocess.run(
        [make, "-n", "-B", "--no-print-directory", "-C", str(ROOT), target],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return [line for line in done.stdout.splitlines() if line.strip()]


def installs(commands: list[str]) -> list[str]:
    return [c for c in commands if re.search(r"\bpip install\b", c)]


def test_make_demo_installs_zerog_alone_in_a_venv_of_its_own() -> None:
    # When make plans `make demo` on a fresh clone
    commands = dry_run("demo")

    # Then it installs zerog without extras, and nothing else,
    pips = installs(commands)
    assert len(pips) == 1, pips
    assert pips[0].rstrip().endswith("pip install --quiet -e ."), pips[0]
    assert "dev" not in pips[0]
    assert "[" not in pips[0]
    # not into the development .venv, and runs the demo from that venv
    assert not any(".venv/" in c for c in commands), commands
    assert commands[-1].endswith("bin/zerog demo")


def test_make_test_installs_the_dev_extra_and_every_backend_driver() -> None:
    # When make plans `make test`
    pips = installs(dry_run("test"))

    # Then the suite's venv gets the dev tools and every backend's driver
    assert len(pips) == 1, pips
    extras = re.search(r"\[([a-z,]+)\]", pips[0])
    assert extras is not None, pips[0]
    assert {"dev", "postgres", "redis", "beanstalk", "cron"} <= set(extras.group(1).split(","))
