"""qless-py's ``SerialWorker``: pops and runs one job after another, in this process.

The job runs in the caller's thread (and in the worker's ``sandbox`` directory when one was
given); it settles itself through the client (``job.complete()`` and the rest), as in qless.
For a pool of processes with heartbeats and respawns, use :class:`ForkingWorker` (zerog's
supervisor) or ``zerog worker``.
"""

from __future__ import annotations

import sys
from typing import Any

from zerog.qless.job import Job
from zerog.qless.workers import Worker


class SerialWorker(Worker):
    """One job at a time; ``kill`` ends the thread that asks (qless: falls on its sword)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.jid: str | None = None  # the job being run now.

    def kill(self, jid: str) -> None:
        """Exit if ``jid`` is the job being run (the listener heard it was lost)."""
        if jid == self.jid:
            sys.exit(1)

    def run(self) -> None:
        """Run jobs until stopped (or until ``jobs()`` ends)."""
        self.signals()
        try:
            with self.listener():
                for job in self.jobs():
                    if self.shutdown:
                        break
                    self._run_one(job)
        finally:
            self.restore_signals()

    def _run_one(self, job: Job | None) -> None:
        if job is None:
            self.jid = None
            self.title("Sleeping...")
            self.sleep(self.interval)
            return
        self.jid = job.jid
        self.title(f"Working on {job.jid} ({job.klass_name})")
        sandbox = self.kwargs.get("sandbox")
        if sandbox is None:
            job.process()
            return
        with self.sandbox(sandbox):
            job.sandbox = sandbox
            job.process()
