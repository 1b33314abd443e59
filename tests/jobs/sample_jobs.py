"""Job classes the job and worker tests run."""

from __future__ import annotations

import time
from typing import Any

from marshmallow import fields, validate

import zerog
from zerog import job_log


class CountSchema(zerog.BaseJobSchema):
    target = fields.Integer(required=True, validate=validate.Range(min=1))
    done = fields.Integer(load_default=0)
    note = fields.String()


class CountJob(zerog.BaseJob):
    """Counts to ``target`` one step per run, requeueing itself in between."""

    JOB_TYPE = "test_count"
    SCHEMA = CountSchema
    QUEUE_NAME = "tests"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.target = kwargs.get("target")
        self.done = kwargs.get("done", 0)
        self.note = kwargs.get("note")

    def run(self) -> tuple[float, bool]:
        self.done += 1
        job_log.info(f"step {self.done}")
        job_log.set_completeness(self.done / self.target)
        if self.done < self.target:
            return time.time() + 5, True
        self.result = {"counted": self.done}
        return time.time(), False


class BehaviourSchema(zerog.BaseJobSchema):
    mode = fields.String(required=True)
    fail_times = fields.Integer(load_default=0)
    seconds = fields.Float(load_default=0.0)


class BehaviourJob(zerog.BaseJob):
    """Ends the way ``mode`` says: ok, finish, continue, log_only, raise, bad_return, loop,
    silent."""

    JOB_TYPE = "test_behaviour"
    SCHEMA = BehaviourSchema
    QUEUE_NAME = "tests"
    MAX_RETRIES = 2
    RETRY_BACKOFF_SECONDS = 10.0

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.mode = kwargs["mode"]
        self.fail_times = kwargs.get("fail_times", 0)
        self.seconds = kwargs.get("seconds", 0.0)

    def run(self) -> Any:
        if self.mode == "finish":
            job_log.error_finish(42, "cannot go on")
        if self.mode == "continue" and self.attempts <= self.fail_times:
            job_log.error_continue(7, f"try again ({self.attempts})")
        if self.mode == "log_only":
            job_log.error_log_only("transient")
        if self.mode == "raise":
            raise RuntimeError("boom")
        if self.mode == "bad_return":
            return "not a tuple"
        if self.mode == "silent":  # hangs without a word: a stuck job, heartbeats alive.
            time.sleep(self.seconds)
        if self.mode == "loop":
            deadline = time.monotonic() + self.seconds
            while time.monotonic() < deadline:
                job_log.set_completeness(0.5)
                time.sleep(0.05)
        return time.time(), False


SAVE_SEEN: list[str] = []  # what SaveAfterLossJob's save() did, in this process.
SAVE_GATE = __import__("threading").Event()  # set by a test to let the job's save() go.


class SaveAfterLossJob(zerog.BaseJob):
    """Waits (first run only) until a test lets it go, then saves its checkpoint and records
    what save() did: returned, or raised (and which error)."""

    JOB_TYPE = "test_save_after_loss"
    QUEUE_NAME = "tests"

    def run(self) -> tuple[float, bool]:
        if not SAVE_SEEN:
            SAVE_GATE.wait(30)
            try:
                self.save()
                SAVE_SEEN.append("returned")
            except Exception as exc:
                SAVE_SEEN.append(type(exc).__name__)
                raise
        return time.time(), False
