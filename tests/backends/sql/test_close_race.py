"""Closing a backend while other threads of the process use it: refused calls, no crash."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.backends.support import postgres_server

SCRIPT = Path(__file__).parent.parent / "support" / "_close_race.py"


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_close_while_other_threads_use_the_backend_refuses_them_and_crashes_nothing(
    kind: str, tmp_path: Path
) -> None:
    # Given four threads reading and writing, When the backend is closed under them (5 times)
    for attempt in range(5):
        url = (
            f"sqlite:///{tmp_path / f'race{attempt}.db'}"
            if kind == "sqlite"
            else postgres_server.url()
        )
        done = subprocess.run(
            [sys.executable, str(SCRIPT), url], capture_output=True, text=True, timeout=60
        )
        # Then the process lives, and every thread was told the backend is closed
        assert done.returncode == 0, (done.returncode, done.stderr[-2000:])
        assert json.loads(done.stdout) == ["unavailable"] * 4, done.stdout
