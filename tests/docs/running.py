"""Running a page's code: in its own process group, with the venv's `zerog` on PATH and no
ZEROG_* setting of the caller's, in a directory whose path is short."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path

SECONDS = 300  # about 45 s alone; the machine is shared, so generously more.


def run_page(script: str, where: Path) -> tuple[int | None, str]:
    """Run the page's script in its own process group, end whatever of it is left, and
    return its exit code (None if it timed out) and its output."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZEROG_")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["COLUMNS"] = "100"
    log = where / "output.txt"
    with log.open("w") as out:
        proc = subprocess.Popen(
            ["bash", "-x", "-c", script],
            cwd=where,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            code: int | None = proc.wait(timeout=SECONDS)
        except subprocess.TimeoutExpired:
            code = None
        finally:
            # A failed step leaves the tutorial's background worker behind: stop its group.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    return code, log.read_text()
