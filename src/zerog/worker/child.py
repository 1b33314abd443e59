"""What runs in a worker child after ``fork``: one :class:`~zerog.worker.loop.Worker`.

The child opens its own store (the parent's connections belong to the parent), routes
SIGTERM to its worker's stop flags (first drains, second stops now), ignores SIGINT (a
terminal's Ctrl-C reaches the parent, which turns it into one SIGTERM per child) and SIGHUP
(the parent's signal to restart its children, which it does with SIGTERM). It reports its
leases to the parent over a pipe (:mod:`zerog.worker.reports`) and exits with a named code.
If its parent dies, the child notices at its next heartbeat tick and drains.
"""

from __future__ import annotations

import enum
import logging
import os
import signal
import sys
from contextlib import closing, suppress
from types import FrameType
from typing import NoReturn

from zerog.backends import open_backend
from zerog.errors import ZerogError
from zerog.model import Lease, Reservation
from zerog.run_context import RunContext
from zerog.store import Store
from zerog.worker import reports
from zerog.worker.config import PoolConfig
from zerog.worker.loop import Worker, WorkerHooks, WorkerOptions
from zerog.worker.reload import Reloader
from zerog.worker.reports import Reporter
from zerog.worker.sandbox import Sandboxes
from zerog.worker.signals import StopFlags

log = logging.getLogger(__name__)


class ExitCode(enum.IntEnum):
    """How a worker child ends; the supervisor decides from it whether and when to respawn."""

    OK = 0  # drained after SIGTERM, or (burst) nothing left to do: not respawned.
    CRASHED = 1  # an unexpected error: respawned with backoff.
    STARTUP = 3  # could not open the store: respawned with backoff.
    RECYCLE = 4  # reached --max-jobs or --max-memory: replaced at once.
    ORPHANED = 5  # its supervisor died: it drained and exited.
    STORE = 6  # (burst) the store could not be written: not respawned, the pool fails.


class ChildHooks(WorkerHooks):
    """Reports runs and heartbeat ticks to the parent; watches for the parent's death."""

    def __init__(self, reporter: Reporter, parent: int, flags: StopFlags) -> None:
        self.reporter = reporter
        self.parent = parent
        self.flags = flags
        self.orphaned = False
        self._told: set[tuple[str, int]] = set()  # controls reported, per (uuid, token).

    # Reports of leases are held back and sent together when a job begins (before it runs,
    # so the supervisor knows every lease a run may starve) and at each heartbeat tick: one
    # write per job, not four. An ``end`` that waits for the tick changes nothing: the
    # supervisor settles a dead child's runs only if the store still shows them running.

    def reserved(self, reservation: Reservation) -> None:
        lease = reservation.lease
        ttr = float(reservation.record["ttr_seconds"])
        self.reporter.hold(reports.START, uuid=lease.uuid, token=lease.token, ttr=ttr)

    def began(self, reservation: Reservation) -> None:
        lease = reservation.lease
        self.reporter.send(reports.RUN, uuid=lease.uuid, token=lease.token)

    def ran(self, lease: Lease) -> None:
        self.reporter.hold(reports.RAN, uuid=lease.uuid, token=lease.token)

    def settled(self, lease: Lease) -> None:
        self.reporter.hold(reports.END, uuid=lease.uuid, token=lease.token)
        self._told.discard((lease.uuid, lease.token))

    def tick(self, running: list[RunContext]) -> None:
        self.reporter.send(reports.BEAT, jobs=len(running))  # with what was held back.
        for context in running:
            key = (context.lease.uuid, context.lease.token)
            if context.control.stops and key not in self._told:
                self._told.add(key)
                self.reporter.send(
                    reports.CONTROL, uuid=key[0], token=key[1], control=context.control.value
                )
        if os.getppid() != self.parent and not self.orphaned:
            self.orphaned = True  # re-parented: the supervisor is gone.
            log.warning(
                "worker child %d: supervisor %d is gone; draining", os.getpid(), self.parent
            )
            self.flags.request()


def install_signals(flags: StopFlags) -> None:
    """The child's handlers; called while the signals are still blocked after fork."""

    def stop(signum: int, frame: FrameType | None) -> None:
        flags.request()  # only a flag: logging or I/O in a handler is unsafe.

    signal.set_wakeup_fd(-1)  # the parent's wake-up pipe is not ours.
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)


def run_child(
    config: PoolConfig,
    slot: int,
    reporter: Reporter,
    parent: int,
    flags: StopFlags,
    reloader: Reloader | None,
) -> ExitCode:
    """Run the worker of slot ``slot`` until it drains, finishes its burst or retires."""
    try:
        store = Store(open_backend(config.settings.url), config.settings)
    except ZerogError as exc:
        log.error("worker child %d cannot open the store: %s", os.getpid(), exc)
        return ExitCode.STARTUP
    hooks = ChildHooks(reporter, parent, flags)
    with closing(store):
        worker = Worker(
            store,
            config.queues,
            threads=config.threads,
            burst=config.burst,
            flags=flags,
            options=_options(config, slot, hooks, reloader),
        )
        reporter.send(reports.HELLO, worker=worker.worker_id, pid=os.getpid())
        processed = worker.run()
    log.info("worker %s stopped after %d job(s)", worker.worker_id, processed)
    if hooks.orphaned:
        return ExitCode.ORPHANED
    if worker.store_error is not None:
        log.error("burst ended early: %s", worker.store_error)
        return ExitCode.STORE
    return ExitCode.RECYCLE if worker.recycle_reason else ExitCode.OK


def _options(
    config: PoolConfig, slot: int, hooks: ChildHooks, reloader: Reloader | None
) -> WorkerOptions:
    sandboxes = None
    if config.workdir is not None:
        sandboxes = Sandboxes(config.workdir, slot, config.threads)
    return WorkerOptions(
        max_jobs=config.max_jobs,
        max_memory_bytes=config.max_memory_bytes,
        sandboxes=sandboxes,
        reload=config.reload,
        reloader=reloader,
        batch=config.batch,
        hooks=hooks,
        supervisor=hooks.parent,
    )


def exit_now(code: int) -> NoReturn:
    """Leave the child without running the parent's cleanup (atexit, finally blocks of the
    supervisor's stack): only what this child opened is flushed."""
    for stream in (sys.stdout, sys.stderr):
        with suppress(OSError, ValueError):
            stream.flush()
    logging.shutdown()
    os._exit(code)
