"""Jobs for the tests of worker pools; real worker processes import them with ``--import``.

Each job's result says where and how it ran (pid, working directory, sandbox), so a test reads
what happened from the store instead of guessing.
"""

from __future__ import annotations

import math
import os
import re
import time
from pathlib import Path
from typing import Any

from marshmallow import fields

import zerog
from zerog import job_log
from zerog.worker import sandbox

QUEUE = "pool"
_held: list[bytes] = []  # memory a MemoryJob keeps, so that its process stays big.


class PoolSchema(zerog.BaseJobSchema):
    seconds = fields.Float(load_default=0.0)
    megabytes = fields.Integer(load_default=0)
    marker = fields.String(load_default="")
    steps = fields.Integer(load_default=0)
    size = fields.Integer(load_default=24)


class PoolJob(zerog.BaseJob):
    """Base of the jobs below: the common fields, and a result saying where it ran."""

    SCHEMA = PoolSchema
    QUEUE_NAME = QUEUE
    MAX_RETRIES = 3
    RETRY_BACKOFF_SECONDS = 0.1

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.seconds = kwargs.get("seconds", 0.0)
        self.megabytes = kwargs.get("megabytes", 0)
        self.marker = kwargs.get("marker", "")
        self.steps = kwargs.get("steps", 0)
        self.size = kwargs.get("size", 24)

    def where(self, **extra: Any) -> dict[str, Any]:
        box = sandbox.current()
        return {
            "pid": os.getpid(),
            "cwd": os.getcwd(),
            "sandbox": str(box) if box else None,
            **extra,
        }

    def mark(self) -> None:
        """Tell the test the job is running (and in which process). The marker appears
        whole (written aside, then renamed): a test that sees it can read the pid."""
        if self.marker:
            aside = Path(f"{self.marker}.{os.getpid()}.tmp")
            aside.write_text(str(os.getpid()))
            os.replace(aside, self.marker)


class SleepJob(PoolJob):
    """Sleeps ``seconds`` (a job that waits on I/O)."""

    JOB_TYPE = "pool_sleep"

    def run(self) -> tuple[float, bool]:
        self.mark()
        time.sleep(self.seconds)
        self.result = self.where()
        return time.time(), False


class SandboxJob(PoolJob):
    """Lists its sandbox, leaves a file in it and in its working directory."""

    JOB_TYPE = "pool_sandbox"

    def run(self) -> tuple[float, bool]:
        box = sandbox.current()
        found = sorted(p.name for p in box.iterdir()) if box else None
        if box is not None:
            (box / "left-behind.txt").write_text(self.uuid)
        Path("relative.txt").write_text(self.uuid)  # lands in the working directory.
        time.sleep(self.seconds)
        self.result = self.where(found=found)
        return time.time(), False


class MemoryJob(PoolJob):
    """Keeps ``megabytes`` of memory for the rest of its process's life."""

    JOB_TYPE = "pool_memory"

    def run(self) -> tuple[float, bool]:
        _held.append(b"x" * (self.megabytes << 20))  # written, so it is resident.
        self.result = self.where()
        return time.time(), False


class SpinJob(PoolJob):
    """Pure-Python busy loop for ``seconds``; never calls job_log (ignores a cancel)."""

    JOB_TYPE = "pool_spin"

    def run(self) -> tuple[float, bool]:
        self.mark()
        deadline = time.monotonic() + self.seconds
        spins = 0
        while time.monotonic() < deadline:
            spins += 1
        self.result = self.where(spins=spins)
        return time.time(), False


class RegexJob(PoolJob):
    """A regular expression match that backtracks for seconds holding the GIL (``re`` never
    releases it), ``steps`` times over: the heartbeat thread cannot run meanwhile."""

    JOB_TYPE = "pool_regex"

    def run(self) -> tuple[float, bool]:
        self.mark()
        # With ``seconds``, the length is timed here, in the worker's child, just before the
        # match: timed in the test's process, under another moment's load, it came out twice
        # too short when the machine got quieter in between.
        size = regex_size_for(float(self.seconds)) if self.seconds else self.size
        started = time.monotonic()
        for _ in range(max(1, self.steps)):
            re.match(r"(a+)+$", "a" * size + "b")
        self.result = self.where(held=time.monotonic() - started)
        return time.time(), False


class ChattyJob(PoolJob):
    """Logs a line every 0.1 s for ``steps`` steps (each line a progress write)."""

    JOB_TYPE = "pool_chatty"

    def run(self) -> tuple[float, bool]:
        self.mark()
        for step in range(self.steps):
            job_log.info(f"{os.getpid()} step {step}")
            time.sleep(0.1)
        self.result = self.where()
        return time.time(), False


class CheckpointJob(PoolJob):
    """Saves ``steps`` = 1 as a checkpoint on its first run, then waits to be killed; a
    later run finds the checkpoint and completes."""

    JOB_TYPE = "pool_checkpoint"

    def run(self) -> tuple[float, bool]:
        if self.steps == 0:
            self.steps = 1
            job_log.info(f"checkpoint saved by {os.getpid()}")
            self.save()  # writes the log line above too: a crash keeps both.
            self.mark()
            time.sleep(600)
        job_log.info(f"resumed from step {self.steps} by {os.getpid()}")
        self.steps = 2
        self.result = self.where()
        return time.time(), False


class PoisonJob(PoolJob):
    """Kills the process running it, every time."""

    JOB_TYPE = "pool_poison"
    MAX_RETRIES = 1

    def run(self) -> tuple[float, bool]:
        os._exit(17)


def regex_size_for(seconds: float) -> int:
    """The subject length for which ``(a+)+$`` backtracks for about ``seconds`` here (each
    more character doubles the time). Timed on a sample of 0.1 s or more, the fastest of
    three: a busy machine only makes the real run longer than asked, never shorter."""
    size = 16
    while _match_seconds(size) < 0.1:
        size += 1
    fastest = min(_match_seconds(size) for _ in range(3))
    return size + max(0, round(math.log2(seconds / fastest)))


def _match_seconds(size: int) -> float:
    started = time.perf_counter()
    re.match(r"(a+)+$", "a" * size + "b")
    return time.perf_counter() - started


FORGED = "2026-01-01 00:00:00,000 ERROR zerog.worker.loop: forged by a job"


class ForgerJob(PoolJob):
    """Logs a warning whose text holds a newline and a line that looks like a record."""

    JOB_TYPE = "pool_forger"

    def run(self) -> tuple[float, bool]:
        zerog.job_log.warning(f"innocent\n{FORGED}\r\nand a bell \x07")
        return time.time(), False
