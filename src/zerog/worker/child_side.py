"""Both ends of what an isolated job's process says (see :mod:`zerog.worker.isolate`).

The child runs the job with a run context of its own whose "store" is the pipe: its
progress goes up as JSON lines (``{"progress": ...}``) and its end as one last line
(``{"end": ...}``: how ``run()`` ended, the job's fields, result and code, and the
progress still buffered). The parent rebuilds the outcome from that line: the job's own
outcomes (``WFErrorFinish``, a cancel...) as themselves, any other exception as one of the
same name with the child's traceback. JSON only: nothing is pickled.
"""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import json
import os
import signal
import sys
import time
import traceback
from typing import Any, NoReturn, cast

from zerog import run_context
from zerog.errors import (
    Advance,
    JobCancelled,
    JobOutcome,
    JobPaused,
    LeaseLost,
    ReservationLost,
    WFErrorContinue,
    WFErrorFinish,
)
from zerog.model import Control, Lease, Progress
from zerog.run_context import RunContext
from zerog.store import Store
from zerog.worker.outcome import Failure, Returned, parse_return

OUTCOMES: dict[str, type[JobOutcome]] = {
    cls.__name__: cls
    for cls in (WFErrorFinish, WFErrorContinue, JobCancelled, JobPaused, LeaseLost, JobOutcome)
}
PR_SET_PDEATHSIG = 1  # prctl: the signal a process gets when its parent dies (Linux).
FAILED_EXIT = 70


# --- the child --------------------------------------------------------------------------------


class PipeStore:
    """What the child's run context calls instead of a store: the pipe to its parent."""

    def __init__(self, writer: int, control: int) -> None:
        self.writer, self.control_fd = writer, control
        self.control = Control.NONE
        os.set_blocking(control, False)

    def clock(self) -> float:
        """Event times; the parent's writes use the store's clock."""
        return time.time()

    def save(self, lease: Lease, progress: Progress) -> Control:
        """Send the progress up; answer with the operator's request, if one came."""
        send(self.writer, {"progress": dataclasses.asdict(progress)})
        return self.heartbeat(lease)

    def heartbeat(self, lease: Lease) -> Control:
        """The operator's request the parent passed down, if any."""
        with contextlib.suppress(BlockingIOError):  # non-blocking: nothing came yet.
            words = os.read(self.control_fd, 4096).split()
            if words:
                self.control = Control(words[-1].decode())
        return self.control


def run(parent: RunContext, writer: int, control: int) -> NoReturn:
    """The child after fork: run the job, send its end, exit (never returns)."""
    code = 0
    try:
        _detach()
        pipe = PipeStore(writer, control)
        context = RunContext(  # a fresh one: the parent's locks may be held by its threads.
            cast(Store, pipe),  # it calls only clock, save and heartbeat (PipeStore's).
            parent.lease,
            parent.job,
            parent.ttr_seconds,
            queue=parent.queue,
            stall_seconds=parent.stall_seconds,
        )
        run_context.bind(context)
        end = _end(context)
        try:
            send(writer, {"end": end})
        except (TypeError, ValueError) as exc:  # its result or fields are not JSON.
            send(writer, {"end": {"raised": _raised(exc, traceback.format_exc())}})
    except BaseException:
        traceback.print_exc()
        code = FAILED_EXIT
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(OSError, ValueError):
                stream.flush()
        os._exit(code)


def _detach() -> None:
    """Signals as a job process wants them; killed with its worker (Linux's prctl)."""
    signal.set_wakeup_fd(-1)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_DFL)
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def _end(context: RunContext) -> dict[str, Any]:
    job = context.job
    try:
        returned = parse_return(job.run())
        ended: dict[str, Any] = {"returned": [returned.resume_at, returned.requeue]}
    except (JobOutcome, Exception) as exc:
        ended = {"raised": _raised(exc, traceback.format_exc())}
    progress = context.take()
    return {
        **ended,
        "values": job.dump_values(),
        "result": job.result,
        "result_code": job.resultCode,
        "progress": None if progress is None else dataclasses.asdict(progress),
    }


def _raised(exc: BaseException, trace: str) -> dict[str, Any]:
    doc: dict[str, Any] = {"type": type(exc).__name__, "message": str(exc), "traceback": trace}
    if isinstance(exc, JobOutcome):
        known = next(c.__name__ for c in type(exc).__mro__ if c.__name__ in OUTCOMES)
        doc.update(outcome=known, error_code=exc.error_code, store_error=exc.store_error)
        doc["message"] = exc.message
    if isinstance(exc, Advance):
        doc.update(outcome="Advance", queue=exc.queue, delay=exc.delay_seconds)
        doc["depends"] = list(exc.depends)
    return doc


def send(writer: int, message: dict[str, Any]) -> None:
    """One JSON line to the parent, written whole (a full pipe waits for it to read)."""
    data = json.dumps(message, separators=(",", ":"), allow_nan=False).encode() + b"\n"
    view = memoryview(data)
    while view:
        view = view[os.write(writer, view) :]


# --- the parent ---------------------------------------------------------------------------


def save_progress(context: RunContext, doc: dict[str, Any]) -> None:
    """Write the child's progress under the parent's lease, as a thread's flush would."""
    if context.lost:
        return
    progress = _progress(doc)
    try:
        context.control = context.store.save(context.lease, progress)
        context.last_write = time.monotonic()
        context.reported(progress.completeness)
    except ReservationLost:
        context.lost = True


def _progress(doc: dict[str, Any]) -> Progress:
    sample = doc.get("sample")
    return Progress(**{**doc, "sample": None if sample is None else tuple(sample)})


def outcome_of(end: dict[str, Any]) -> Returned | Failure:
    """The outcome the child's end line tells; the parent's job takes its fields and
    result (the runner reads them from there) and the leftover progress is written."""
    if "returned" in end:
        resume_at, requeue = end["returned"]
        return Returned(float(resume_at), bool(requeue))
    raised = end["raised"]
    return Failure(_exception(raised), str(raised.get("traceback") or ""))


def adopt(context: RunContext, end: dict[str, Any]) -> None:
    """Give the parent's job what the child's ended with."""
    job = context.job
    if "values" not in end:  # the child could not send them: the job keeps its own.
        return
    values = dict(end.get("values") or {})
    # The fields as the child's run left them: read by the runner through dump_values, which
    # each face implements its own way, so the instance answers with them (no face's setters).
    job.__dict__["dump_values"] = lambda: values
    job.result = end.get("result")
    job.resultCode = end.get("result_code")
    if end.get("progress"):
        save_progress(context, end["progress"])


def _exception(raised: dict[str, Any]) -> BaseException:
    outcome, message = raised.get("outcome"), str(raised.get("message") or "")
    if outcome == "Advance":
        return Advance(raised["queue"], float(raised["delay"]), raised.get("depends") or ())
    if outcome in OUTCOMES:
        error_code, store_error = raised.get("error_code"), bool(raised.get("store_error", True))
        return OUTCOMES[outcome](message, error_code, store_error)
    kind = type(str(raised.get("type") or "Exception"), (Exception,), {})  # its name, shown.
    error: BaseException = kind(message)
    return error
