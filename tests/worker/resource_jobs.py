"""Jobs for the tests of per-attempt figures, memory limits and process isolation; real
worker processes import them with ``--import``."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any, ClassVar

from marshmallow import fields

import zerog
from zerog import job_log

QUEUE = "res"
MIB = 1 << 20


class ResourceSchema(zerog.BaseJobSchema):
    megabytes = fields.Integer(load_default=0)
    hold = fields.Float(load_default=0.0)
    spin = fields.Float(load_default=0.0)
    marker = fields.String(load_default="")


class AllocJob(zerog.BaseJob):
    """Writes ``megabytes`` of memory (so it is resident), holds it ``hold`` seconds, frees
    it and busy-loops for ``spin`` seconds of CPU time; its result says which process ran it."""

    JOB_TYPE = "res_alloc"
    SCHEMA = ResourceSchema
    QUEUE_NAME = QUEUE
    MAX_RETRIES = 0

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.megabytes = kwargs.get("megabytes", 0)
        self.hold = kwargs.get("hold", 0.0)
        self.spin = kwargs.get("spin", 0.0)
        self.marker = kwargs.get("marker", "")

    def run(self) -> tuple[float, bool]:
        block = b"x" * (self.megabytes * MIB)  # written, so every page is resident.
        if self.marker:  # the block is there: the test may look at (or kill) the process.
            aside = Path(f"{self.marker}.{os.getpid()}.tmp")
            aside.write_text(str(os.getpid()))
            os.replace(aside, self.marker)
        time.sleep(self.hold)
        del block
        deadline = time.thread_time() + self.spin  # CPU time, however busy the machine.
        while time.thread_time() < deadline:
            pass
        self.result = {"pid": os.getpid()}
        return time.time(), False


class IsolatedAllocJob(AllocJob):
    """:class:`AllocJob` in a process of its own."""

    JOB_TYPE = "res_alloc_isolated"
    ISOLATE: ClassVar[str] = "process"


class LimitedAllocJob(AllocJob):
    """:class:`AllocJob` with a memory limit of 100 MiB (so: in a process of its own)."""

    JOB_TYPE = "res_alloc_limited"
    MEMORY_LIMIT_MB: ClassVar[int] = 100


class ReportingSchema(zerog.BaseJobSchema):
    steps = fields.Integer(load_default=3)
    done = fields.Integer(load_default=0)
    fail = fields.String(load_default="")
    marker = fields.String(load_default="")


class IsolatedReportingJob(zerog.BaseJob):
    """In a process of its own: logs a line and checkpoints ``done`` at each of ``steps``
    steps (0.1 s apart), then raises ``fail`` if set ("finish": WFErrorFinish, "value":
    ValueError; "result": returns a result that is not JSON). With ``marker``, it tells the
    test it runs, then logs on until stopped."""

    JOB_TYPE = "res_reporting_isolated"
    SCHEMA = ReportingSchema
    QUEUE_NAME = QUEUE
    MAX_RETRIES = 0
    ISOLATE: ClassVar[str] = "process"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.steps = kwargs.get("steps", 3)
        self.done = kwargs.get("done", 0)
        self.fail = kwargs.get("fail", "")
        self.marker = kwargs.get("marker", "")

    def run(self) -> tuple[float, bool]:
        if self.marker:
            Path(self.marker).write_text(str(os.getpid()))
            while True:  # until an operator's cancel, learnt at a job_log call.
                job_log.info(f"still here in {os.getpid()}")
                time.sleep(0.1)
        for step in range(self.steps):
            job_log.info(f"step {step} in {os.getpid()}")
            job_log.set_completeness((step + 1) / self.steps)
            self.done = step + 1
            self.save()
            time.sleep(0.1)
        if self.fail == "finish":
            raise zerog.WFErrorFinish("finished with an error", error_code=7)
        if self.fail == "value":
            raise ValueError("bad value in the job's process")
        self.result = {"pid": os.getpid()}
        if self.fail == "result":
            self.result["set"] = {1, 2}  # not JSON: cannot be sent back, nor stored.
        return time.time(), False
