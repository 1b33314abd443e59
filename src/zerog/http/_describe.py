"""What a job is, in one short line, for lists: its class's own ``describe()``, else a summary
of its values.

A list row that says only "resize_album · running" makes an operator open every job to find
the one they want. A job class may say what a job is in its own words::

    class ResizeJob(zerog.BaseJob):
        def describe(self) -> str:
            return f"album {self.album}: {self.done} photos done"

The hook is looked up, not declared on ``BaseJob``: a class without it gets the values'
summary (``album=holidays, done=12``), and a ``describe()`` that raises, or a type this
process cannot load, falls back to that summary too, so one broken class cannot break a list.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from zerog import registry
from zerog.errors import ZerogError
from zerog.jobs import job_from_record
from zerog.model import Record

log = logging.getLogger(__name__)

MAX_CHARS = 120  # a row's description; longer is cut with an ellipsis.
MAX_VALUE_CHARS = 32  # one value in the values' summary.


def describe(record: Record) -> str:
    """One line saying what the job is (at most :data:`MAX_CHARS` characters)."""
    text = _own_words(record)
    if text is None:
        text = values_summary(record.get("values") or {})
    return cut(" ".join(text.split()), MAX_CHARS)


def _own_words(record: Record) -> str | None:
    """The class's ``describe()`` of the job, or None (no class, no hook, or it failed)."""
    if (record.get("kind") or "class") != "class":
        return None
    try:
        cls = registry.job_class(str(record["type"]))
    except ZerogError:
        return None  # not loaded in this process (the server was given no --import for it).
    if not callable(getattr(cls, "describe", None)):
        return None
    try:
        return str(job_from_record(record).describe())  # type: ignore[attr-defined]
    except Exception as exc:  # user code: any failure falls back to the values' summary.
        log.debug("describe() of %s failed: %r", record.get("uuid"), exc)
        return None


def values_summary(values: dict[str, Any]) -> str:
    """``key=value, ...`` with each value compact and short; strings without quotes."""
    parts = []
    for key, value in values.items():
        shown = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
        parts.append(f"{key}={cut(shown, MAX_VALUE_CHARS)}")
    return ", ".join(parts)


def cut(text: str, limit: int) -> str:
    """``text`` of at most ``limit`` characters, an ellipsis ending a cut one."""
    return text if len(text) <= limit else text[: limit - 1] + "…"
