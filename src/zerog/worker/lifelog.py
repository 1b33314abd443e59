"""One log line when a job's run starts and one when it ends, for the people who read a
worker's log: which job, what type and queue, which attempt, how the run ended, how long it
took, and its error when it failed. Logger ``zerog.jobs``: the end at INFO (WARNING for a run
that failed, will be retried or lost its lease, so failures show even in a quiet log), the
start at DEBUG (``zerog worker -v``): a line costs about as much as a no-op job's whole
write, so a worker's default log says each job once. The lines are made by :func:`_emit`,
without the search for the caller's frame that ``Logger.log`` makes at every line."""

from __future__ import annotations

import logging
import sys
import time

from zerog.model import Record, Settlement

log = logging.getLogger("zerog.jobs")

TROUBLE = frozenset({"failed", "retried", "lease-lost"})
MAX_ERROR_CHARS = 300  # of the error's first line.


def started(record: Record) -> float:
    """Log the start of a run (DEBUG); returns the time it started (for :func:`ended`)."""
    if log.isEnabledFor(logging.DEBUG):
        _emit(
            logging.DEBUG,
            "job %s started: %s in %s, attempt %s of %s",
            (
                record["uuid"],
                record["type"],
                record["queue"],
                record.get("attempts"),
                int(record.get("max_retries") or 0) + 1,
            ),
            {"event": "job.started", "job_id": record["uuid"]},
        )
    return time.monotonic()


def ended(record: Record, settlement: Settlement | None, since: float) -> None:
    """Log how a run ended (None: its lease was lost), with its error if it has one."""
    event = "lease-lost" if settlement is None else settlement.event
    error = settlement.error if settlement is not None else None
    why = ""
    if error and error.get("msg"):
        first = str(error["msg"]).strip().split("\n", 1)[0][:MAX_ERROR_CHARS]
        why = f": {first}"
    level = logging.WARNING if event in TROUBLE else logging.INFO
    if not log.isEnabledFor(level):
        return
    _emit(
        level,
        "job %s %s after %.1f s (%s in %s)%s",
        (record["uuid"], event, time.monotonic() - since, record["type"], record["queue"], why),
        {"event": f"job.{event}", "job_id": record["uuid"]},
    )


def _emit(level: int, msg: str, args: tuple[object, ...], extra: dict[str, object]) -> None:
    """Log a line as ``log.log`` would, the record naming this module and function as its
    source (which ``log.log`` would find by walking the stack: a fifth of a line's cost)."""
    caller = sys._getframe(1).f_code
    record = log.makeRecord(
        log.name, level, __file__, caller.co_firstlineno, msg, args, None, caller.co_name, extra
    )
    log.handle(record)
