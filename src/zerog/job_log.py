"""Report progress from inside a running job: ``zerog.job_log``, as the seeds show it.

Each call acts on the job the calling thread is running. Outside a job they only log, so job
code can be called directly in a test. Every call is also a chance to stop: if an operator
cancelled or paused the job, or the worker lost its lease, the call raises so the job ends at
a clean point.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from zerog import run_context
from zerog.errors import WFErrorContinue, WFErrorFinish, ZerogError
from zerog.iteration import iterate

if TYPE_CHECKING:
    from zerog.jobs import BaseJob

log = logging.getLogger(__name__)

__all__ = [
    "checkpoint",
    "error_continue",
    "error_finish",
    "error_log_only",
    "heartbeat",
    "increment_completeness",
    "info",
    "iterate",
    "messages",
    "on_message",
    "set_completeness",
    "track_completeness",
    "warning",
]


def _context() -> run_context.RunContext | None:
    context = run_context.current()
    if context is not None:
        context.check()
        context.deliver()
    return context


def set_completeness(completeness: float, enforceMinInterval: bool = False) -> None:
    """Set how complete the job is (0..1); with ``enforceMinInterval`` at most every 2 s."""
    context = _context()
    if context is not None:
        context.set_completeness(completeness, enforceMinInterval)


def track_completeness(start: float, end: float, intervals: float) -> None:
    """Prepare ``increment_completeness`` to step from ``start`` to ``end`` in ``intervals``."""
    context = _context()
    if context is not None:
        context.track(start, end, intervals)


def increment_completeness() -> None:
    """One more interval of ``track_completeness`` is done."""
    context = _context()
    if context is not None:
        context.increment()


def info(msg: str) -> None:
    """Record a message (with its time) on the job."""
    log.info(msg)
    context = _context()
    if context is not None:
        context.info(msg)


def warning(msg: str) -> None:
    """Record a warning on the job's log."""
    log.warning(msg)
    context = _context()
    if context is not None:
        context.info(f"WARNING: {msg}")


def error_log_only(msg: str) -> None:
    """Log an error (not stored on the job) and stop; the job is retried within its limit."""
    log.error(msg)
    if _context() is not None:
        raise WFErrorContinue(msg, store_error=False)


def error_continue(errorCode: int, msg: str) -> None:
    """Record an error on the job and stop; the job is retried within its limit."""
    log.error(msg)
    if _context() is not None:
        raise WFErrorContinue(msg, error_code=errorCode)


def error_finish(errorCode: int, msg: str) -> None:
    """Record an error on the job and stop for good: the job ends failed, not requeued."""
    log.error(msg)
    if _context() is not None:
        raise WFErrorFinish(msg, error_code=errorCode)


def heartbeat() -> None:
    """Tell the store the job is alive now (the worker also does this on its own)."""
    context = _context()
    if context is not None:
        context.touch()
        context.check()


def checkpoint(job: BaseJob) -> None:
    """Save ``job``'s fields now (what ``job.save()`` calls)."""
    context = _context()
    if context is None or context.job is not job:
        raise ZerogError(
            "save() stores a checkpoint while the job runs; use enqueue() to store a new job"
        )
    context.checkpoint()


def messages() -> list[dict[str, Any]]:
    """The messages operators sent the job since the last call, oldest first: each a dict
    with its ``body`` (the JSON value sent), ``sender``, ``at`` (time sent) and ``id``. A
    message sent while the job runs arrives within about two seconds (the heartbeat's
    answer carries it); one sent to wait arrives at the start of the next run. With an
    ``on_message`` callback set, the callback gets them instead. Outside a job: none."""
    context = _context()
    return [] if context is None else context.messages()


def on_message(callback: Callable[[dict[str, Any]], None]) -> None:
    """Call ``callback`` with each message as it arrives (see :func:`messages`). It runs in
    the job's own thread, at the job's next ``job_log`` call (progress, a log line,
    ``messages()``, a step of ``iterate``), so it never runs beside the job's code."""
    context = run_context.current()
    if context is not None:
        context.on_message.append(callback)
