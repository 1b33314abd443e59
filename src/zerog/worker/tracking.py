"""The supervisor's view of its children: the leases each holds, and what to do about them.

A child reports each run's lease (:mod:`zerog.worker.reports`); the supervisor keeps them here
and acts on three occasions, always through the store under the child's own lease, so the
store's fencing decides (a lease that moved on refuses the write, and the job is left alone):

- **a child died**: its runs are settled at once instead of waiting for their leases to
  expire: back to waiting with the error "worker lost" (the attempt counts, so a job that
  kills its process every time ends failed), or cancelled / paused if an operator asked,
  or released (attempt refunded) if the supervisor itself had to kill the child at shutdown,
  or if the job was not running (claimed ahead in a batch, or run and not yet written: it
  runs again, as any job whose worker died before its settlement was written); the store's
  running jobs of the child that it never reported (claimed just before it died) too;
- **a child is silent but burning CPU**: a job holds the GIL in a long C call (a big ``re``
  match), so the child's heartbeat thread cannot run; the supervisor renews its leases. A
  stopped child (SIGSTOP) burns no CPU and is not helped: its leases expire and are rescued,
  and the store refuses its writes when it resumes;
- **a cancel or pause is not obeyed** within the grace period: the supervisor terminates the
  child (see ``Supervisor``) and settles the job as asked once the child is gone.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from dataclasses import dataclass, field
from typing import Any

from zerog.errors import BackendError, ReservationLost
from zerog.model import Control, Lease, Settlement, State
from zerog.record import error_entry
from zerog.store import MAX_PAGE, Store
from zerog.worker import oom, procinfo, reports
from zerog.worker.reports import ReportReader

log = logging.getLogger(__name__)

CPU_SAMPLE_SECONDS = 0.2  # CPU time is compared over at least this long (ticks are 10 ms).
# A child's heartbeat thread reports every 0.5 s; silent for this long, it may be starved. A
# lease is renewed by the child at a third of its TTR at most, so with the CPU sampling and
# the main loop's tick, the supervisor's first renewal comes in time for a TTR of 3 s or more.
SILENT_SECONDS = 0.75


@dataclass
class Run:
    """One lease a child holds, as it reported it."""

    lease: Lease
    ttr: float
    renewed: float  # monotonic time the lease was last known renewed (by child or parent).
    by_parent: bool = False  # the last renewal was the supervisor's.
    control: Control = Control.NONE
    control_seen: float | None = None  # when the supervisor learnt of a cancel or pause.
    running: bool = False  # between ``run`` and ``ran``: the job itself is running.


@dataclass
class Child:
    """One worker child process and what it reported."""

    pid: int
    slot: int
    reader: ReportReader
    started: float = field(default_factory=time.monotonic)
    worker_id: str | None = None
    runs: dict[str, Run] = field(default_factory=dict)
    heard: float = field(default_factory=time.monotonic)  # its last report of any kind.
    completed: int = 0  # runs it ended: a child that ended one was healthy.
    reason: str | None = None  # why the supervisor is stopping it: cancel, restart, shutdown.
    terms: int = 0  # SIGTERMs sent.
    next_term_at: float | None = None  # when to send the next SIGTERM.
    kill_at: float | None = None  # when to SIGKILL it if it is still there.
    cpu_ticks: int | None = None
    cpu_at: float = 0.0
    busy: bool = False  # its CPU time grew over the last sample.
    stopped: bool = False  # stopped by a signal at the last sample.
    oom_kills: int | None = field(default_factory=oom.kills)  # its cgroup's, as it began.

    def take_reports(self) -> None:
        """Apply every report the child sent since the last call."""
        now = time.monotonic()
        for report in self.reader.read():
            self.heard = now
            self._apply(report, now)

    def _apply(self, report: dict[str, Any], now: float) -> None:
        kind = report.get("e")
        if kind == reports.HELLO:
            self.worker_id = str(report["worker"])
        elif kind == reports.START and self.worker_id is not None:
            lease = Lease(str(report["uuid"]), int(report["token"]), self.worker_id)
            self.runs[lease.uuid] = Run(lease, float(report["ttr"]), now)
        elif kind in (reports.RUN, reports.RAN):
            run = self.runs.get(str(report["uuid"]))
            if run is not None and run.lease.token == report.get("token"):
                run.running = kind == reports.RUN
        elif kind == reports.END:
            run = self.runs.get(str(report["uuid"]))
            if run is not None and run.lease.token == report.get("token"):
                del self.runs[run.lease.uuid]
                self.completed += 1
        elif kind == reports.CONTROL:
            run = self.runs.get(str(report["uuid"]))
            if run is not None and run.lease.token == report.get("token"):
                self._learn(run, Control(report["control"]), now)
        elif kind == reports.BEAT:
            for run in self.runs.values():
                run.renewed, run.by_parent = now, False  # its heartbeat thread is alive.

    @staticmethod
    def _learn(run: Run, control: Control, now: float) -> None:
        if control.stops and run.control_seen is None:  # a message is no request to stop.
            run.control, run.control_seen = control, now

    def sample_cpu(self, now: float) -> None:
        """Read the child's state and whether its CPU time grew (every CPU_SAMPLE_SECONDS)."""
        if now - self.cpu_at < CPU_SAMPLE_SECONDS:
            return
        sample = procinfo.sample(self.pid)
        self.cpu_at = now
        if sample is None:
            self.busy, self.stopped = False, False
            return
        self.busy = self.cpu_ticks is not None and sample.cpu_ticks > self.cpu_ticks
        self.cpu_ticks, self.stopped = sample.cpu_ticks, sample.stopped


class Keeper:
    """Acts in the store on the runs of the supervisor's children."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def keep_alive(self, child: Child, now: float) -> None:
        """Renew the leases of a child that cannot (GIL held) or is being terminated."""
        if not child.runs:
            return
        child.sample_cpu(now)
        if child.stopped or not (child.busy or child.reason is not None):
            return
        for run in list(child.runs.values()):
            due = min(run.ttr / 3, 2.0) if run.by_parent else SILENT_SECONDS
            if now - run.renewed >= due:
                self._touch(child, run, now)

    def _touch(self, child: Child, run: Run, now: float) -> None:
        try:
            control = self.store.heartbeat(run.lease)
        except ReservationLost:
            child.runs.pop(run.lease.uuid, None)  # the lease moved on: not ours to keep.
            return
        except BackendError as exc:
            log.warning("supervisor: cannot renew the lease on job %s: %s", run.lease.uuid, exc)
            return
        if child.reason is None and not run.by_parent:
            log.warning(
                "supervisor: child %d is busy without heartbeats (a C call holding the GIL?); "
                "renewing the lease on job %s for it",
                child.pid,
                run.lease.uuid,
            )
        run.renewed, run.by_parent = now, True
        Child._learn(run, control, now)

    def settle_orphans(self, child: Child, how: str) -> None:
        """The child is gone: settle every run it still held (see the module docstring)."""
        for run in list(child.runs.values()):
            try:
                self._settle_orphan(child, run, how)
            except ReservationLost:
                pass  # settled by the child before it died, or rescued meanwhile.
            except BackendError as exc:
                log.warning(
                    "supervisor: cannot settle job %s of dead child %d (its lease will expire "
                    "and it will be rescued): %s",
                    run.lease.uuid,
                    child.pid,
                    exc,
                )
        child.runs.clear()
        self._release_unreported(child, how)

    def _release_unreported(self, child: Child, how: str) -> None:
        """The jobs the store shows running under the dead child's worker id that it never
        reported: it died between a claim's commit and its report. None of them ran (a job
        begins only once its report is sent), so each goes back to the queue as released,
        its attempt refunded, instead of waiting out its lease."""
        if child.worker_id is None:
            return
        try:
            page = self.store.list(state=State.RUNNING, worker=child.worker_id, limit=MAX_PAGE)
            for record in page.records:
                lease = Lease(record["uuid"], record["lease_token"], child.worker_id)
                with contextlib.suppress(ReservationLost):
                    self.store.release(lease)
                    log.warning(
                        "supervisor: job %s, claimed by child %d (%s) before it could say so: "
                        "released",
                        lease.uuid,
                        child.pid,
                        how,
                        extra={"event": "job.released", "job_id": lease.uuid},
                    )
        except BackendError as exc:
            log.warning(
                "supervisor: cannot look for child %d's unreported jobs: %s", child.pid, exc
            )

    def _settle_orphan(self, child: Child, run: Run, how: str) -> None:
        lease = run.lease
        record = self.store.get(lease.uuid, history=False)
        if record["state"] != State.RUNNING or record["lease_token"] != lease.token:
            return
        control = record.get("control") or ""
        if control == Control.CANCEL:
            self.store.settle(lease, Settlement.cancelled())
            event = "cancelled"
        elif control == Control.PAUSE:
            self.store.settle(lease, Settlement.paused())
            event = "paused"
        elif child.reason in ("shutdown", "restart") or not run.running:
            self.store.release(lease)  # not running: claimed ahead, or ran and not written.
            event = "released"
        else:
            event = self._lost(lease, record, f"worker lost: its process {child.pid} {how}")
        log.warning(
            "supervisor: job %s of child %d (%s): %s",
            lease.uuid,
            child.pid,
            how,
            event,
            extra={"event": f"job.{event}", "job_id": lease.uuid},
        )

    def _lost(self, lease: Lease, record: dict[str, Any], message: str) -> str:
        error = error_entry(self.store.clock(), None, message)
        if record["attempts"] > record["max_retries"]:
            self.store.fail(lease, error)
            return "failed"
        self.store.retry(lease, 0.0, error)
        return "retried"

    def forget(self, child: Child) -> None:
        """Remove a dead child's registry entry (it could not)."""
        if child.worker_id is None:
            return
        try:
            self.store.unregister_worker(child.worker_id)
        except BackendError as exc:
            log.debug("supervisor: cannot unregister %s: %s", child.worker_id, exc)


def describe_status(status: int) -> str:
    """How a child ended, in words: "exited with code 3", "was killed by SIGKILL"."""
    if os.WIFSIGNALED(status):
        return f"was killed by {_signal_name(os.WTERMSIG(status))}"
    return f"exited with code {os.waitstatus_to_exitcode(status)}"


def _signal_name(number: int) -> str:
    import signal

    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"
