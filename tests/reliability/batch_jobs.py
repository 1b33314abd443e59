"""The jobs of the batch reliability test: members that work a while and end complete or
failed, and a callback that appends one line per run to a file outside the store.

A line is ``callback <uuid> <lease token> <ended> <complete> <failed>``, written with one
``write`` on an ``O_APPEND`` descriptor, so that the test counts the callback's runs from the
file, not from the store it checks.
"""

from __future__ import annotations

import os
import random
import time
from typing import Any

from marshmallow import fields

import zerog
from zerog import run_context

MEMBER_TYPE = "batch-member"
CALLBACK_TYPE = "batch-callback"
QUEUE = "batches"


class MemberSchema(zerog.BaseJobSchema):
    work_ms = fields.Float(load_default=100.0)
    fail = fields.Boolean(load_default=False)


class MemberJob(zerog.BaseJob):
    """Works ``work_ms`` to twice that, then completes, or fails for good when told to."""

    JOB_TYPE = MEMBER_TYPE
    SCHEMA = MemberSchema
    QUEUE_NAME = QUEUE

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.work_ms = kwargs.get("work_ms", 100.0)
        self.fail = kwargs.get("fail", False)

    def run(self) -> tuple[float, bool]:
        time.sleep(random.uniform(self.work_ms, 2 * self.work_ms) / 1000)
        if self.fail:
            raise zerog.WFErrorFinish("this member fails for good")
        return time.time(), False


class CallbackSchema(zerog.BaseJobSchema):
    effects = fields.String(required=True)


class CallbackJob(zerog.BaseJob):
    """Reads its batch's outcomes and appends them, with its run's token, to ``effects``."""

    JOB_TYPE = CALLBACK_TYPE
    SCHEMA = CallbackSchema
    QUEUE_NAME = QUEUE

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.effects = kwargs["effects"]

    def run(self) -> tuple[float, bool]:
        context = run_context.current()
        assert context is not None
        batch = context.store.batch(self.uuid)
        line = (
            f"callback {self.uuid} {context.lease.token} {batch['ended']} "
            f"{batch['complete']} {batch['failed']}\n"
        )
        fd = os.open(self.effects, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line.encode())
        finally:
            os.close(fd)
        return time.time(), False
