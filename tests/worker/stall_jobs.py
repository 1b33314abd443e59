"""Jobs for the stall tests (issue 19): real worker processes import them with ``--import``."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from marshmallow import fields

import zerog
from zerog import job_log

QUEUE = "stall"


class StuckSchema(zerog.BaseJobSchema):
    marker = fields.String(load_default="")
    seconds = fields.Float(load_default=60.0)


class StuckJob(zerog.BaseJob):
    """Sets its completeness to 10 % once, then logs a line every 0.3 s for ``seconds``
    without moving it: busy, never silent, and stuck. With a ``marker``, ``<marker>.runs``
    gets a line per run, and a run that finds an earlier one there completes at once (so a
    retry ends well)."""

    JOB_TYPE = "stall_stuck"
    QUEUE_NAME = QUEUE
    SCHEMA = StuckSchema

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.marker = kwargs.get("marker", "")
        self.seconds = kwargs.get("seconds", 60.0)

    def run(self) -> tuple[float, bool]:
        before = []
        if self.marker:
            runs = Path(f"{self.marker}.runs")
            before = runs.read_text().splitlines() if runs.exists() else []
            with runs.open("a") as out:
                out.write(f"{time.time()}\n")
        if before:
            self.result = "done on a later run"
            return time.time(), False
        job_log.set_completeness(0.1)
        deadline = time.monotonic() + self.seconds
        n = 0
        while time.monotonic() < deadline:
            n += 1
            job_log.info(f"still working, line {n}")
            time.sleep(0.3)
        self.result = "never stalled"
        return time.time(), False


class FailJob(zerog.BaseJob):
    """Fails at once (its retries are set by whoever enqueues it)."""

    JOB_TYPE = "stall_fail"
    QUEUE_NAME = QUEUE

    def run(self) -> None:
        raise RuntimeError("the disk is full")


class SteadySchema(zerog.BaseJobSchema):
    steps = fields.Integer(load_default=10)


class SteadyJob(zerog.BaseJob):
    """Moves its completeness every 0.2 s, saying nothing else: slow but never stuck."""

    JOB_TYPE = "stall_steady"
    QUEUE_NAME = QUEUE
    SCHEMA = SteadySchema

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.steps = kwargs.get("steps", 10)

    def run(self) -> tuple[float, bool]:
        for step in range(1, self.steps + 1):
            time.sleep(0.2)
            job_log.set_completeness(step / self.steps)
        return time.time(), False
