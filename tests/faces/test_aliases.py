"""``import zeroG`` and ``import geyser`` are zerog: one module under each name, in a fresh
interpreter as a user's program would start."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"

PROGRAM = """
import zeroG.jobs
import geyser.jobs
import zerog
from zeroG import job_log
from geyser.jobs import BaseJob

assert zeroG is zerog and geyser is zerog
assert zeroG.jobs is zerog.jobs and BaseJob is zerog.jobs.BaseJob
assert job_log is zerog.job_log
assert zerog.jobs.__spec__.name == "zerog.jobs"
zeroG.registry.JOB_MODULES = zeroG.registry.JOB_MODULES + ["zeroG.examples"]
assert zerog.registry.JOB_MODULES == ["zeroG.examples"]
import importlib
assert importlib.import_module("zeroG.examples") is importlib.import_module("zerog.examples")
print("ok")
"""


def test_the_seeds_module_names_are_zerog():
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    done = subprocess.run(
        [sys.executable, "-c", PROGRAM], env=env, capture_output=True, text=True, timeout=60
    )
    assert (done.returncode, done.stdout.strip()) == (0, "ok"), done.stderr
