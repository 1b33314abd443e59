"""A job in a process of its own: forked for one attempt, watched, and killed if it outgrows
its memory limit.

Which jobs: one enqueued with ``memory_limit_mb=``, a job class with ``ISOLATE = "process"``
or a ``MEMORY_LIMIT_MB``, or any job of a queue whose store config sets ``<queue>-isolate`` to
``"process"`` or ``<queue>-memory-limit-mb``. A memory limit always means a process of its
own: a thread cannot be stopped from outside, a process can, and the pool's other jobs go on
untouched.

The worker thread that reserved the job forks; the child runs ``run()`` and never touches
the store (its connections are the parent's): its ``job_log`` progress and, at the end, its
outcome, fields and result come back over a pipe as JSON lines, and the parent writes them
under its lease as a job run on a thread would. The parent's heartbeat keeps the lease
alive; an operator's cancel or pause goes down a second pipe, and the job learns it at its
next ``job_log`` call, as on a thread. Every ``SAMPLE_SECONDS`` the parent reads the child's
resident size; past the limit it kills the child with SIGKILL and the attempt fails with
"memory limit exceeded: peak X MiB, limit Y MiB". The figures are exact: the child's own
rusage from ``wait4`` (its resident size starts at the worker's, whose pages it shares).

A job in its own process must not use a store opened before the fork (the default store of
the worker process, say): it opens its own if it enqueues jobs. A qless job always runs on a
thread (its ``process()`` speaks to the store through the worker's client): neither a queue's
isolation nor its memory limit applies to it.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import time
from dataclasses import dataclass
from typing import Any

from zerog.attempt_usage import mib
from zerog.errors import WFErrorContinue
from zerog.jobs import BaseJob
from zerog.model import Control
from zerog.run_context import RunContext
from zerog.worker import child_side, oom, procinfo, usage
from zerog.worker.outcome import Failure, Returned

SAMPLE_SECONDS = 0.05  # how often the parent reads the child's resident size.
PROCESS = "process"
MIB = 1 << 20


@dataclass(frozen=True)
class Policy:
    """How one job runs: in a process of its own or not, and its memory limit (bytes)."""

    isolate: bool = False
    limit_bytes: int | None = None


def policy_of(job: BaseJob, record: dict[str, Any], stored: dict[str, Any]) -> Policy:
    """The job's policy: its own limit (``enqueue(memory_limit_mb=)``), else its class's,
    else its queue's store config."""
    if record.get("kind") == "qless":  # its run() speaks to the store itself: not from a fork.
        return Policy()
    queue = record["queue"]
    limit_mb = record.get("memory_limit_mb")
    if limit_mb is None:
        limit_mb = getattr(job, "MEMORY_LIMIT_MB", None)
    if limit_mb is None:
        limit_mb = stored.get(f"{queue}-memory-limit-mb")
    mode = getattr(job, "ISOLATE", None) or stored.get(f"{queue}-isolate")
    limit = None if limit_mb is None else int(float(limit_mb) * MIB)
    return Policy(isolate=mode == PROCESS or limit is not None, limit_bytes=limit)


def run_isolated(
    context: RunContext, limit_bytes: int | None
) -> tuple[Returned | Failure, dict[str, Any]]:
    """Run the context's job in a forked process; returns its outcome and its figures."""
    reader, writer = os.pipe()
    control_r, control_w = os.pipe()
    start_rss = procinfo.rss_bytes()
    oom_before = oom.kills()
    started = time.monotonic()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child's coverage is not collected.
        os.close(reader)
        os.close(control_w)
        child_side.run(context, writer, control_r)
    os.close(writer)
    os.close(control_r)
    watch = _Watch(pid, reader, control_w, context, limit_bytes)
    try:
        status, rusage = watch.run()
    finally:
        os.close(reader)
        os.close(control_w)
    figures = usage.figures(
        wall=time.monotonic() - started,
        user=rusage.ru_utime,
        system=rusage.ru_stime,
        peak=procinfo.maxrss_bytes(rusage.ru_maxrss),
        start=start_rss,
        scope=usage.PROCESS,
        pid=pid,
    )
    outcome = watch.outcome(status, figures["peak_rss_bytes"], oom_before)
    if watch.end is not None and watch.over is None:
        child_side.adopt(context, watch.end)
    return outcome, figures


class _Watch:
    """The parent's side of one isolated run: reads the child's lines, samples its memory,
    forwards an operator's request, and reaps it."""

    def __init__(
        self, pid: int, reader: int, control: int, context: RunContext, limit: int | None
    ) -> None:
        self.pid, self.reader, self.control = pid, reader, control
        self.context, self.limit = context, limit
        self.end: dict[str, Any] | None = None
        self.over: int | None = None  # the resident size that made the parent kill it.
        self.last_rss = 0
        self._partial = b""
        self._told = Control.NONE
        os.set_blocking(reader, False)

    def run(self) -> tuple[int, Any]:
        """Until the child has exited: its wait status and rusage."""
        poller = select.poll()  # not select(): a busy worker's descriptors may pass 1024.
        poller.register(self.reader, select.POLLIN)
        while True:
            poller.poll(SAMPLE_SECONDS * 1000)
            self._read()
            done, status, rusage = os.wait4(self.pid, os.WNOHANG)
            if done:
                self._read()  # what it wrote before it ended is still in the pipe.
                return status, rusage
            self._sample()
            self._forward()

    def _read(self) -> None:
        while True:
            try:
                chunk = os.read(self.reader, 65536)
            except BlockingIOError:
                return
            if not chunk:
                return
            *lines, self._partial = (self._partial + chunk).split(b"\n")
            for line in lines:
                self._take(json.loads(line))

    def _take(self, message: dict[str, Any]) -> None:
        if "progress" in message:
            child_side.save_progress(self.context, message["progress"])
        if "end" in message:
            self.end = message["end"]

    def _sample(self) -> None:
        rss = procinfo.rss_of(self.pid)
        if rss is None:
            return
        self.last_rss = rss
        if self.limit is not None and rss > self.limit and self.over is None:
            self.over = rss
            self._kill()

    def _forward(self) -> None:
        if self.context.lost:  # the job is someone else's now: stop it before it does more.
            self._kill()
            return
        control = self.context.control
        if control != Control.NONE and control != self._told:
            self._told = control
            with contextlib.suppress(OSError):
                os.write(self.control, control.value.encode() + b"\n")

    def _kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)

    def outcome(self, status: int, peak: int, oom_before: int | None) -> Returned | Failure:
        """How the run ended: the child's own word, else how its process ended."""
        if self.over is not None:
            limit = self.limit or 0
            return _failed(
                f"memory limit exceeded: peak {mib(max(peak, self.over))}, limit {mib(limit)} "
                f"(the job's process {self.pid} was killed)"
            )
        if self.end is not None and os.WIFEXITED(status):
            return child_side.outcome_of(self.end)
        how = oom.describe_death(status, self.last_rss, self.limit, oom_before)
        return _failed(f"the job's process {self.pid} {how}")


def _failed(message: str) -> Failure:
    """A failure the job did not raise: the worker's word for how its process ended."""
    return Failure(ProcessEnded(message), "")


class ProcessEnded(WFErrorContinue):
    """The job's own process ended without the job's outcome (killed, or it exited): the
    attempt fails with the worker's words alone, and is retried while retries remain."""
