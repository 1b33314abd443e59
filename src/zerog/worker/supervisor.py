"""The forking supervisor behind ``zerog worker``: N children x M threads, kept alive.

The parent imports the job modules, opens the store, then forks N children (no fork per job:
a child runs job after job). It never runs jobs itself, so it stays responsive: it reads its
children's reports, reaps and respawns them, and steps in where a child cannot (see
:mod:`zerog.worker.tracking`). It is single-threaded, which keeps ``fork`` safe.

Signals (handlers only set flags; the main loop acts on them):

- **SIGTERM / SIGINT**, first: drain. Each child gets one SIGTERM (stop reserving, give
  running jobs the grace period, release what still runs with its checkpoint); no respawn.
  Second: each child gets a second SIGTERM (release now and exit). A child still there
  ``KILL_AFTER_SECONDS`` later is killed, and its jobs released by the supervisor.
- **SIGHUP**: restart the children gracefully (each drains as above, then is replaced),
  e.g. after deploying new code that reload cannot pick up.
- **SIGCHLD**: reap and respawn: at once after a recycle or a restart, otherwise with backoff
  (doubling from ``FIRST_BACKOFF_SECONDS`` to ``MAX_BACKOFF_SECONDS`` while a slot's children
  die before finishing any job; reset by one that did).

Signals are blocked around ``fork``, so none reaches a child before it has its own handlers.
Children ignore SIGINT: a terminal's Ctrl-C goes to the whole process group, and each child
must drain once, through its parent, not twice.
"""

from __future__ import annotations

import contextlib
import enum
import logging
import os
import select
import signal
import time
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass, field
from types import FrameType

from zerog.backends import open_backend
from zerog.backends.contract import Capability
from zerog.errors import BackendError, ConfigurationError
from zerog.store import Store
from zerog.urls import mask
from zerog.worker import oom, procinfo
from zerog.worker.child import ExitCode, exit_now, install_signals, run_child
from zerog.worker.config import PoolConfig
from zerog.worker.reload import Reloader
from zerog.worker.reports import Reporter, ReportReader
from zerog.worker.signals import StopFlags
from zerog.worker.tracking import Child, Keeper

log = logging.getLogger(__name__)

HANDLED = frozenset({signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGCHLD})
TICK_SECONDS = 0.25  # the longest the main loop sleeps without an event.
# The shortest step: children running short jobs report every few hundred microseconds, and
# reading them as they come would cost a wake-up each; reports wait in the pipe meanwhile.
MIN_STEP_SECONDS = 0.01
RESCUE_SECONDS = 1.0  # how often the supervisor rescues expired leases (a cheap read).
FIRST_BACKOFF_SECONDS = 0.1  # respawn delay after a child died without finishing a job...
MAX_BACKOFF_SECONDS = 30.0  # ...doubling up to this.
HEALTHY_SECONDS = 10.0  # a child that lived this long was healthy, jobs or not.
SECOND_TERM_SECONDS = 0.5  # cancel enforcement: SIGTERM, then this later "stop now".
KILL_AFTER_SECONDS = 5.0  # after "stop now", the child has this long before SIGKILL.


class SupervisorExit(enum.IntEnum):
    """The supervisor's exit codes (the CLI's: 0 ok, 1 failure)."""

    OK = 0  # stopped by a signal and every child drained; or a burst with no crash.
    FAILURE = 1  # a child did not drain cleanly at shutdown, or crashed during a burst.


@dataclass
class Slot:
    """One of the N places for a child."""

    index: int
    child: Child | None = None
    failures: int = 0  # children in a row that died before finishing a job.
    respawn_at: float | None = 0.0  # when to start a child here (None: never again).


@dataclass
class Requests:
    """What the signal handlers asked; the main loop acts on it."""

    stop: StopFlags = field(default_factory=StopFlags)
    restart: bool = False


class Supervisor:
    """Runs a pool of worker children until stopped (or, in a burst, until they are done)."""

    def __init__(self, config: PoolConfig) -> None:
        self.config = config
        self.requests = Requests()
        self.slots = [Slot(k) for k in range(config.workers)]
        self.reloader = Reloader() if config.reload else None
        self.crashed = 0  # children that died unexpectedly.
        self.unclean = 0  # children that did not exit 0 once stopping (killed, crashed).
        self.store_failed = 0  # (burst) children that ended because the store failed.
        self._stopping = 0  # stop requests acted on (0, 1 drain, 2 now).
        self._wake_r, self._wake_w = -1, -1
        self._last_rescue = float("-inf")
        self._stepped = float("-inf")  # when the last step began.
        self._keeper: Keeper | None = None

    def run(self) -> int:
        """Supervise until done; returns a :class:`SupervisorExit` code."""
        if self.reloader is not None:
            self.reloader.snapshot()  # the children's baseline: the code imported before fork.
        store = Store(open_backend(self.config.settings.url), self.config.settings)
        if Capability.MULTI_PROCESS not in store.backend.capabilities:
            store.close()
            raise ConfigurationError(
                f"{mask(self.config.settings.url)} cannot be shared by worker processes; "
                f"run the worker in this process with --workers 0"
            )
        self._keeper = Keeper(store)
        log.info(
            "supervisor %d: %d worker(s) x %d thread(s) on %s",
            os.getpid(),
            self.config.workers,
            self.config.threads,
            ",".join(self.config.queues),
        )
        with closing(store), self._signals():
            self._step()
            while self._active():
                self._wait()
                self._step()
        return self._exit_code()

    @property
    def keeper(self) -> Keeper:
        """Acts in the store for the children (set up by :meth:`run`)."""
        assert self._keeper is not None, "run() opens the store"
        return self._keeper

    # --- the main loop -----------------------------------------------------------------------

    def _active(self) -> bool:
        return any(s.child is not None or s.respawn_at is not None for s in self.slots)

    def _step(self) -> None:
        now = self._stepped = time.monotonic()
        keeper = self.keeper
        for child in self._children():
            child.take_reports()
        self._reap()
        self._obey_requests(now)
        self._respawn(now)
        for child in self._children():
            keeper.keep_alive(child, now)
            self._enforce_controls(child, now)
            self._escalate(child, now)
        if now - self._last_rescue >= RESCUE_SECONDS:
            self._last_rescue = now
            try:
                keeper.store.rescue_expired()
            except BackendError as exc:
                log.warning("supervisor: rescue failed (trying again): %s", exc)

    def _wait(self) -> None:
        """Sleep until a report, a signal (through the wake-up pipe) or the next tick, and
        at least ``MIN_STEP_SECONDS`` since the last step."""
        rest = self._stepped + MIN_STEP_SECONDS - time.monotonic()
        if rest > 0:
            time.sleep(rest)
        fds = [self._wake_r] + [c.reader.fd for c in self._children() if not c.reader.closed]
        try:
            ready, _, _ = select.select(fds, [], [], TICK_SECONDS)
        except InterruptedError:  # pragma: no cover - Python retries select itself (PEP 475).
            return
        if self._wake_r in ready:
            with contextlib.suppress(BlockingIOError):
                os.read(self._wake_r, 4096)

    def _children(self) -> list[Child]:
        return [slot.child for slot in self.slots if slot.child is not None]

    # --- signals and requests ----------------------------------------------------------------

    @contextlib.contextmanager
    def _signals(self) -> Iterator[None]:
        """Handlers that only set flags, and a wake-up pipe so a signal ends ``select``;
        the previous handlers are put back afterwards."""
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)

        def on_stop(signum: int, frame: FrameType | None) -> None:
            self.requests.stop.request()

        def on_hup(signum: int, frame: FrameType | None) -> None:
            self.requests.restart = True

        def on_child(signum: int, frame: FrameType | None) -> None:
            pass  # the wake-up pipe did the work: the main loop reaps.

        handlers = {
            signal.SIGTERM: on_stop,
            signal.SIGINT: on_stop,
            signal.SIGHUP: on_hup,
            signal.SIGCHLD: on_child,
        }
        previous = {sig: signal.signal(sig, handler) for sig, handler in handlers.items()}
        old_wakeup = signal.set_wakeup_fd(self._wake_w, warn_on_full_buffer=False)
        try:
            yield
        finally:
            signal.set_wakeup_fd(old_wakeup)
            for sig, old in previous.items():
                signal.signal(sig, old)
            os.close(self._wake_r)
            os.close(self._wake_w)

    def _obey_requests(self, now: float) -> None:
        wanted = 2 if self.requests.stop.now.is_set() else int(self.requests.stop.draining.is_set())
        while self._stopping < wanted:
            self._stopping += 1
            self._stop_all(now, second=self._stopping == 2)
        if self.requests.restart:
            self.requests.restart = False
            if not self._stopping:
                log.info("supervisor: SIGHUP, restarting the workers")
                for child in self._children():
                    self._terminate(child, "restart", now, grace=True)

    def _stop_all(self, now: float, second: bool) -> None:
        if second:
            log.info("supervisor: stopping now")
        else:  # the first Ctrl-C (or SIGTERM): say how to skip the grace period.
            log.warning(
                "supervisor: draining the workers (up to %.0f s for running jobs); "
                "press Ctrl-C again to stop now",
                self.config.settings.grace_seconds,
            )
        for slot in self.slots:
            slot.respawn_at = None
        for child in self._children():
            if second:
                child.reason = "shutdown"
                self._signal(child, signal.SIGTERM)
                child.kill_at = now + KILL_AFTER_SECONDS
            elif child.reason == "restart":
                child.reason = "shutdown"  # already draining: no second SIGTERM (stop now).
            elif child.reason is None:
                self._terminate(child, "shutdown", now, grace=True)

    def _terminate(self, child: Child, reason: str, now: float, grace: bool) -> None:
        """SIGTERM a child; ``grace``: let it drain (then SIGKILL if it overstays), else
        follow with a second SIGTERM (stop now) and SIGKILL soon after."""
        child.reason = reason
        self._signal(child, signal.SIGTERM)
        if grace:
            child.kill_at = now + self.config.settings.grace_seconds + KILL_AFTER_SECONDS
        else:
            child.next_term_at = now + SECOND_TERM_SECONDS
            child.kill_at = now + SECOND_TERM_SECONDS + KILL_AFTER_SECONDS

    def _escalate(self, child: Child, now: float) -> None:
        if child.next_term_at is not None and now >= child.next_term_at:
            child.next_term_at = None
            self._signal(child, signal.SIGTERM)
        if child.kill_at is not None and now >= child.kill_at:
            child.kill_at = None
            log.warning("supervisor: child %d did not stop in time; killing it", child.pid)
            self._signal(child, signal.SIGKILL)

    def _enforce_controls(self, child: Child, now: float) -> None:
        """Terminate a child whose job ignored a cancel or pause for the grace period."""
        if child.reason is not None:
            return
        grace = self.config.cancel_grace_seconds
        for run in child.runs.values():
            if run.control_seen is not None and now - run.control_seen >= grace:
                log.warning(
                    "supervisor: job %s ignored its %s for %.0f s; terminating child %d",
                    run.lease.uuid,
                    run.control.value,
                    grace,
                    child.pid,
                )
                self._terminate(child, "cancel", now, grace=False)
                return

    def _signal(self, child: Child, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(child.pid, signum)
        if signum == signal.SIGTERM:
            child.terms += 1

    # --- children: start, reap, respawn ------------------------------------------------------

    def _respawn(self, now: float) -> None:
        for slot in self.slots:
            if slot.child is None and slot.respawn_at is not None and now >= slot.respawn_at:
                slot.respawn_at = None
                slot.child = self._fork(slot)
                if slot.child is None:
                    self._backoff(slot, now)

    def _fork(self, slot: Slot) -> Child | None:
        """Start the slot's child; signals stay blocked until it has its own handlers."""
        read_fd, write_fd = os.pipe()
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, HANDLED)
        try:
            pid = os.fork()
        except OSError as exc:
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
            log.error("supervisor: cannot fork a worker: %s", exc)
            os.close(read_fd)
            os.close(write_fd)
            return None
        if pid == 0:
            self._become_child(slot, write_fd, read_fd, blocked)  # never returns.
        signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
        os.close(write_fd)
        log.info("supervisor: started worker child %d in slot %d", pid, slot.index)
        return Child(pid=pid, slot=slot.index, reader=ReportReader(read_fd))

    def _become_child(
        self, slot: Slot, write_fd: int, read_fd: int, blocked: set[int | signal.Signals]
    ) -> None:
        code = int(ExitCode.CRASHED)
        try:
            flags = StopFlags()
            install_signals(flags)
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
            for fd in [read_fd, self._wake_r, self._wake_w] + [
                c.reader.fd for c in self._children()
            ]:
                with contextlib.suppress(OSError):
                    os.close(fd)
            parent = os.getppid()
            code = run_child(
                self.config, slot.index, Reporter(write_fd), parent, flags, self.reloader
            )
        except BaseException:
            log.exception("worker child %d failed", os.getpid())
        finally:
            exit_now(code)

    def _reap(self) -> None:
        while True:
            try:
                pid, status, rusage = os.wait4(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            slot = next((s for s in self.slots if s.child and s.child.pid == pid), None)
            if slot is not None:
                self._bury(slot, status, procinfo.maxrss_bytes(rusage.ru_maxrss))  # its peak

    def _bury(self, slot: Slot, status: int, peak_rss: int) -> None:
        child = slot.child
        assert child is not None
        child.take_reports()  # what it said before dying: runs it ended are not orphans.
        child.reader.close()
        limit = self.config.max_memory_bytes
        how = oom.describe_death(status, peak_rss, limit, child.oom_kills, "--max-memory")
        self.keeper.settle_orphans(child, how)
        self.keeper.forget(child)
        slot.child = None
        self._plan_respawn(slot, child, status, how)

    def _plan_respawn(self, slot: Slot, child: Child, status: int, how: str) -> None:
        now = time.monotonic()
        code = os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else None
        if self.config.burst and code == ExitCode.STORE:
            log.error("supervisor: worker child %d could not write the store", child.pid)
            self.store_failed += 1
            return
        if self._stopping or (code == ExitCode.OK and child.reason is None and self.config.burst):
            log.info("supervisor: worker child %d %s", child.pid, how)
            if self._stopping and code != ExitCode.OK:
                self.unclean += 1
            return
        if code in (ExitCode.OK, ExitCode.RECYCLE) or child.reason is not None:
            log.info("supervisor: worker child %d %s; replacing it", child.pid, how)
            slot.failures, slot.respawn_at = 0, now
            return
        self.crashed += 1
        # A child that opened its store and began its loop (it said hello) did not die of its
        # start-up: killed, or taken by a job, it is replaced at once. The backoff is for a
        # child that dies before that (a store it cannot open, a module that fails to import).
        healthy = (
            child.worker_id is not None
            or child.completed > 0
            or now - child.started >= HEALTHY_SECONDS
        )
        slot.failures = 1 if healthy else slot.failures + 1
        self._backoff(slot, now)
        log.warning(
            "supervisor: worker child %d %s; respawning in %.1f s",
            child.pid,
            how,
            (slot.respawn_at or now) - now,
        )

    @staticmethod
    def _backoff(slot: Slot, now: float) -> None:
        slot.failures = max(1, slot.failures)
        delay = min(MAX_BACKOFF_SECONDS, FIRST_BACKOFF_SECONDS * 2 ** (slot.failures - 1))
        slot.respawn_at = now + delay

    def _exit_code(self) -> int:
        if self.store_failed:
            return SupervisorExit.FAILURE
        if self.unclean or (self.config.burst and not self._stopping and self.crashed):
            return SupervisorExit.FAILURE
        return SupervisorExit.OK


def supervise(config: PoolConfig) -> int:
    """Run a pool with ``config`` until it is stopped; returns the exit code."""
    if config.workers < 1:
        raise ValueError(f"a pool needs at least one worker, not {config.workers}")
    return Supervisor(config).run()


__all__ = ["ExitCode", "PoolConfig", "Supervisor", "SupervisorExit", "supervise"]
