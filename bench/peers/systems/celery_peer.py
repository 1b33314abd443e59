"""Celery with a Redis broker: the app its workers load (``-A``), and its producer.

A Redis result backend is configured because W5's progress (``update_state``) needs one; the
other tasks ignore results, as Celery does by default without a backend.
"""

from __future__ import annotations

from typing import Any

from celery import Celery
from peer import env
from sidechannel import Job, no_report, perform

app = Celery("bench", broker=env("ZB_REDIS_URL"), backend=env("ZB_REDIS_URL"))
app.conf.task_default_queue = "bench"
app.conf.task_ignore_result = True
app.conf.worker_hijack_root_logger = False


@app.task(name="bench.task")
def task(kind: str, enqueued: float, seconds: float) -> None:
    perform(kind, enqueued, seconds, no_report)


@app.task(name="bench.progress", bind=True)
def progress(self: Any, kind: str, enqueued: float, seconds: float) -> None:
    def report(fraction: float) -> None:
        self.update_state(state="PROGRESS", meta={"progress": fraction})

    perform(kind, enqueued, seconds, report)


class Producer:
    """``delay`` one by one; Celery has no bulk publish."""

    def one(self, job: Job) -> None:
        chosen = progress if job.kind == "progress" else task
        chosen.delay(job.kind, job.enqueued, job.seconds)

    def bulk(self, jobs: list[Job]) -> None:
        raise NotImplementedError("Celery has no bulk enqueue")

    def close(self) -> None:
        app.close()
