"""A job class with its own ``describe()``, for the list rows' summaries."""

from __future__ import annotations

import time
from typing import Any

from marshmallow import fields

from zerog.jobs import BaseJob, BaseJobSchema

DESCRIBED = "dash_described"


class AlbumSchema(BaseJobSchema):
    album = fields.String(required=True)
    done = fields.Integer(load_default=0)


class AlbumJob(BaseJob):
    """Resizes an album's photos (never run here: the store only keeps it)."""

    JOB_TYPE = DESCRIBED
    SCHEMA = AlbumSchema
    QUEUE_NAME = "alpha"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.album = kwargs["album"]
        self.done = kwargs.get("done", 0)

    def describe(self) -> str:
        return f"album {self.album}: {self.done} photos done"

    def run(self) -> tuple[float, bool]:
        return time.time(), False
