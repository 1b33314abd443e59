"""Jobs for the steering tests (issue 19); real worker processes import them with
``--import``. Each writes what it heard to a file beside the test, with the time it heard it,
so a test measures delivery from outside the worker."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from marshmallow import fields

import zerog
from zerog import job_log

QUEUE = "steer"


class ListenSchema(zerog.BaseJobSchema):
    marker = fields.String(load_default="")
    seconds = fields.Float(load_default=60.0)
    callback = fields.Boolean(load_default=False)


class ListenJob(zerog.BaseJob):
    """Listens for messages until one says "stop" (or ``seconds`` pass): with
    ``job_log.messages()``, or with an ``on_message`` callback when ``callback``. Each body
    heard is appended to ``<marker>.heard`` as ``<time> <JSON>``; ``<marker>`` holds the pid
    once it runs."""

    JOB_TYPE = "steer_listen"
    QUEUE_NAME = QUEUE
    SCHEMA = ListenSchema

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.marker = kwargs.get("marker", "")
        self.seconds = kwargs.get("seconds", 60.0)
        self.callback = kwargs.get("callback", False)

    def run(self) -> tuple[float, bool]:
        heard: list[Any] = []

        def hear(message: dict[str, Any]) -> None:
            heard.append(message["body"])
            with open(f"{self.marker}.heard", "a") as out:
                out.write(f"{time.time()} {json.dumps(message['body'])}\n")

        if self.callback:
            job_log.on_message(hear)
        Path(self.marker).write_text(str(os.getpid()))
        deadline = time.monotonic() + self.seconds
        while "stop" not in heard and time.monotonic() < deadline:
            if self.callback:
                job_log.set_completeness(0.5, enforceMinInterval=True)  # delivers.
            else:
                for message in job_log.messages():
                    hear(message)
            time.sleep(0.02)
        self.result = {"heard": heard}
        return time.time(), False


class IterateSchema(zerog.BaseJobSchema):
    marker = fields.String(load_default="")
    count = fields.Integer(load_default=60)
    every = fields.Integer(load_default=5)
    item_seconds = fields.Float(load_default=0.05)


class IterateJob(zerog.BaseJob):
    """Goes over ``count`` items with ``job_log.iterate``, checkpointing every ``every``;
    each item done is appended to ``<marker>.done`` as ``<pid> <item>``, and ``<marker>``
    holds the pid of the run (written whole)."""

    JOB_TYPE = "steer_iterate"
    QUEUE_NAME = QUEUE
    SCHEMA = IterateSchema
    MAX_RETRIES = 3

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.marker = kwargs.get("marker", "")
        self.count = kwargs.get("count", 60)
        self.every = kwargs.get("every", 5)
        self.item_seconds = kwargs.get("item_seconds", 0.05)

    def run(self) -> tuple[float, bool]:
        aside = Path(f"{self.marker}.{os.getpid()}.tmp")
        aside.write_text(str(os.getpid()))
        os.replace(aside, self.marker)
        for item in job_log.iterate(range(self.count), checkpoint_every=self.every):
            time.sleep(self.item_seconds)
            with open(f"{self.marker}.done", "a") as out:
                out.write(f"{os.getpid()} {item}\n")
        self.result = {"cursor": self.iteration_cursor}
        return time.time(), False
