"""Jobs for the crash tests; imported by real worker processes via ``--import``."""

from __future__ import annotations

import os
import time
from typing import Any

from marshmallow import fields

import zerog
from zerog import job_log


class CheckpointSchema(zerog.BaseJobSchema):
    stage = fields.Integer(load_default=0)
    marker = fields.String(required=True)
    runs = fields.List(fields.Integer(), load_default=list)


class CheckpointJob(zerog.BaseJob):
    """Saves stage 1 as a checkpoint, then hangs (to be killed) on its first run only."""

    JOB_TYPE = "crash_checkpoint"
    SCHEMA = CheckpointSchema
    QUEUE_NAME = "crash"
    TTR = 2.0

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.stage = kwargs.get("stage", 0)
        self.marker = kwargs["marker"]
        self.runs = kwargs.get("runs", [])

    def run(self) -> tuple[float, bool]:
        self.runs = [*self.runs, os.getpid()]
        if self.stage == 0:
            self.stage = 1
            job_log.info("stage 1 saved")
            self.save()  # writes the log line above too: a crash keeps both.
            with open(self.marker, "w") as handle:  # tell the test we are mid-job.
                handle.write(str(os.getpid()))
            time.sleep(600)
        job_log.info(f"resumed at stage {self.stage}")
        self.stage = 2
        return time.time(), False


class PoisonSchema(zerog.BaseJobSchema):
    pass


class PoisonJob(zerog.BaseJob):
    """Kills the process running it, every time."""

    JOB_TYPE = "crash_poison"
    SCHEMA = PoisonSchema
    QUEUE_NAME = "crash"
    TTR = 1.0
    MAX_RETRIES = 1

    def run(self) -> tuple[float, bool]:
        os._exit(17)
