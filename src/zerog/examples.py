"""Runnable example jobs: the seeds' skeleton made real, and the long jobs of ``zerog demo``.

Register them the seeds' way::

    zerog.registry.JOB_MODULES = zerog.registry.JOB_MODULES + ["zerog.examples"]

Each example's ``SPEED`` values keep the demo short; real jobs would take minutes or hours.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

import tornado.escape
import tornado.web
from marshmallow import fields, validate

import zerog as zeroG
from zerog import job_log
from zerog.jobs import BaseJob, BaseJobSchema, make_base_job

MY_JOB_TYPE = "my_job_type"


class MyJobSchema(BaseJobSchema):
    """The seed's skeleton schema: one optional string."""

    fieldOne = fields.String()


class MyJob(BaseJob):
    """The seed's skeleton job, doing a little real work: it reports what it was given."""

    JOB_TYPE = MY_JOB_TYPE
    SCHEMA = MyJobSchema
    QUEUE_NAME = "my_job"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.fieldOne = kwargs.get("fieldOne")

    def run(self) -> tuple[float, bool]:
        job_log.info(f"my_job got fieldOne={self.fieldOne!r}")
        job_log.set_completeness(1.0)
        return time.time(), False


def make_my_job(values: dict[str, Any] = {}) -> BaseJob:
    """Create a MyJob, validated by its schema."""
    return zeroG.jobs.make_base_job(values, MY_JOB_TYPE)


class MyJobHandler(tornado.web.RequestHandler):
    """The seed's handler: POST values → a queued MyJob; GET → the job's status."""

    def get(self, uuid: str) -> None:
        job = zeroG.get_job(uuid)
        self.write({"uuid": job.uuid, "state": job.state, "completeness": job.completeness})

    def post(self) -> None:
        params = tornado.escape.json_decode(self.request.body)
        job = make_my_job(values=params)
        job.enqueue()
        self.set_status(201)
        self.write({"uuid": job.uuid})


class ReportSchema(BaseJobSchema):
    """Inputs of the report job."""

    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    steps = fields.Integer(load_default=5, validate=validate.Range(min=1, max=1000))
    step_seconds = fields.Float(load_default=1.0, validate=validate.Range(min=0, max=3600))


class ReportJob(BaseJob):
    """A job of fixed steps that reports each with track/increment_completeness."""

    JOB_TYPE = "example_report"
    SCHEMA = ReportSchema
    QUEUE_NAME = "examples"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.title = kwargs.get("title")
        self.steps = kwargs.get("steps", 5)
        self.step_seconds = kwargs.get("step_seconds", 1.0)

    def run(self) -> tuple[float, bool]:
        job_log.track_completeness(0.0, 1.0, self.steps)
        for step in range(1, self.steps + 1):
            time.sleep(self.step_seconds)
            job_log.info(f"{self.title}: step {step} of {self.steps} done")
            job_log.increment_completeness()
        self.result = {"title": self.title, "steps": self.steps}
        return time.time(), False


class CrawlSchema(BaseJobSchema):
    """Inputs and checkpoint of the crawl job."""

    pages = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100000))
    batch = fields.Integer(load_default=5, validate=validate.Range(min=1, max=10000))
    page_seconds = fields.Float(load_default=0.2, validate=validate.Range(min=0, max=3600))
    done = fields.Integer(load_default=0)
    digest = fields.String(load_default="")


class CrawlJob(BaseJob):
    """A job that works in batches and yields between them with ``(resume_at, True)``.

    ``done`` and ``digest`` are its checkpoint: saved at each requeue, so a crash re-runs only
    the batch it was in.
    """

    JOB_TYPE = "example_crawl"
    SCHEMA = CrawlSchema
    QUEUE_NAME = "examples"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.pages = kwargs.get("pages", 20)
        self.batch = kwargs.get("batch", 5)
        self.page_seconds = kwargs.get("page_seconds", 0.2)
        self.done = kwargs.get("done", 0)
        self.digest = kwargs.get("digest", "")

    def run(self) -> tuple[float, bool]:
        end = min(self.pages, self.done + self.batch)
        for page in range(self.done + 1, end + 1):
            time.sleep(self.page_seconds)
            self.digest = hashlib.sha256(f"{self.digest}{page}".encode()).hexdigest()[:16]
            self.done = page
            job_log.set_completeness(self.done / self.pages)
        job_log.info(f"crawled pages up to {self.done} of {self.pages}")
        if self.done < self.pages:
            return time.time() + 0.5, True  # yield the worker; resume in half a second.
        self.result = {"pages": self.done, "digest": self.digest}
        return time.time(), False


class FlakySchema(BaseJobSchema):
    """Inputs of the flaky job."""

    fail_times = fields.Integer(load_default=1, validate=validate.Range(min=0, max=100))
    work_seconds = fields.Float(load_default=1.0, validate=validate.Range(min=0, max=3600))


class FlakyJob(BaseJob):
    """A job that fails its first ``fail_times`` attempts, then succeeds: retries in action."""

    JOB_TYPE = "example_flaky"
    SCHEMA = FlakySchema
    QUEUE_NAME = "examples"
    RETRY_BACKOFF_SECONDS = 1.0

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.fail_times = kwargs.get("fail_times", 1)
        self.work_seconds = kwargs.get("work_seconds", 1.0)

    def run(self) -> tuple[float, bool]:
        for tenth in range(1, 11):
            time.sleep(self.work_seconds / 10)
            job_log.set_completeness(tenth / 10 * (0.6 if self.attempts <= self.fail_times else 1))
        if self.attempts <= self.fail_times:
            job_log.error_continue(503, f"upstream unavailable (attempt {self.attempts})")
        job_log.info(f"succeeded on attempt {self.attempts}")
        return time.time(), False


def make_example(job_type: str, values: dict[str, Any] | None = None) -> BaseJob:
    """Create any example job by type, validated."""
    return make_base_job(values or {}, job_type)
