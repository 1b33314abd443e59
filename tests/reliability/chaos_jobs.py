"""The chaos test's job: a little work, then one side effect that names the run doing it.

The side effect is one line ``<uuid> <lease token> <pid>`` appended to a file with a single
``write`` on an ``O_APPEND`` descriptor (whole lines, even from several processes). The lease
token tells the runs of a job apart: the line of the run that completed the job carries the
token the job's record keeps, ``lease_token``; lines with other tokens come from runs killed
after their side effect and before their settlement (at-least-once, made visible).
"""

from __future__ import annotations

import os
import random
import time
from typing import Any

from marshmallow import fields

import zerog
from zerog import run_context

CHAOS_TYPE = "chaos"
CHAOS_QUEUE = "chaos"


class ChaosSchema(zerog.BaseJobSchema):
    effects = fields.String(required=True)
    work_ms = fields.Float(load_default=50.0)
    after_ms = fields.Float(load_default=0.0)


class ChaosJob(zerog.BaseJob):
    """Works for up to ``work_ms`` ms, appends its side-effect line, works up to ``after_ms``
    more (a window where a kill leaves a side effect without a settlement), completes."""

    JOB_TYPE = CHAOS_TYPE
    SCHEMA = ChaosSchema
    QUEUE_NAME = CHAOS_QUEUE

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.effects = kwargs["effects"]
        self.work_ms = kwargs.get("work_ms", 50.0)
        self.after_ms = kwargs.get("after_ms", 0.0)

    def run(self) -> tuple[float, bool]:
        time.sleep(random.uniform(0, self.work_ms) / 1000)
        context = run_context.current()
        token = context.lease.token if context is not None else 0
        line = f"{self.uuid} {token} {os.getpid()}\n".encode()
        fd = os.open(self.effects, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line)
        finally:
            os.close(fd)
        time.sleep(random.uniform(0, self.after_ms) / 1000)
        return time.time(), False
