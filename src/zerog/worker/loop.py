"""The worker process: M consumer threads (reserve → run → settle) and one heartbeat thread.

A forking supervisor (``--workers N``, :mod:`zerog.worker.supervisor`) runs N of these; one is
also usable on its own, inside a test or another program. Shutdown is in two stages: ``drain``
stops reserving and lets the running jobs finish within the grace period; what still runs
after it is released back to the queue with its last checkpoint, its attempt refunded (or
settled cancelled or paused, if an operator asked for that meanwhile).

A worker can also retire on its own (``max_jobs``, ``max_memory_bytes``): it stops reserving,
lets its running jobs finish, and returns with ``recycle_reason`` set so that its supervisor
replaces the process.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

from zerog.errors import BackendError
from zerog.model import Control, Lease, Reservation, Settlement, State
from zerog.record import new_worker_id
from zerog.run_context import RunContext
from zerog.store import Store
from zerog.worker import procinfo
from zerog.worker.batch import DEFAULT_BATCH, RunAhead
from zerog.worker.heartbeat import Heartbeat
from zerog.worker.idle import IdleGate
from zerog.worker.registration import Registration
from zerog.worker.reload import Reloader
from zerog.worker.runner import Runner
from zerog.worker.sandbox import Sandboxes
from zerog.worker.signals import StopFlags
from zerog.worker.stall_policy import attach
from zerog.worker.trouble import Trouble

log = logging.getLogger(__name__)

MIN_IDLE_SECONDS = 0.01  # first idle poll; doubles up to the poll interval.


WEBHOOK_CLOSE_SECONDS = 2.0  # a stopping worker waits this long for its webhook's events.

make_worker_id = new_worker_id  # the name workers know it by.


class WorkerHooks:
    """What a worker tells whoever supervises it; these do nothing (a worker on its own).

    ``reserved`` is called in the consumer thread as soon as it holds a lease, ``began`` and
    ``ran`` around the run (a batch claims jobs before they run, and writes a completion
    after), ``settled`` once the run's settlement is written (or failed) or the unstarted job
    given back, ``tick`` in the heartbeat thread with the runs it watches. They must be quick
    and must not raise.
    """

    def reserved(self, reservation: Reservation) -> None:
        """The worker holds a new lease."""

    def began(self, reservation: Reservation) -> None:
        """The job of this lease began to run."""

    def ran(self, lease: Lease) -> None:
        """The run ended; its settlement waits in the batch, to be written."""

    def settled(self, lease: Lease) -> None:
        """The lease is over: the run was settled, or could not be."""

    def tick(self, running: list[RunContext]) -> None:
        """The heartbeat thread ticked."""


@dataclass(frozen=True, kw_only=True)
class WorkerOptions:
    """What a worker does besides running jobs; the defaults suit a worker on its own."""

    max_jobs: int | None = None  # retire after about this many jobs (see Worker._took_job).
    max_memory_bytes: int | None = None  # retire once resident memory is above this.
    sandboxes: Sandboxes | None = None  # a scratch directory per job (--workdir).
    reload: bool = True  # run a job's new code when its module's file changed.
    reloader: Reloader | None = None  # None: a new one, its baseline taken now.
    hooks: WorkerHooks | None = None
    batch: int = DEFAULT_BATCH  # most jobs a consumer claims at once (1: one at a time).
    supervisor: int | None = None  # the supervising process's pid, for the registry.


class Worker:
    """Runs jobs from ``queues`` (in priority order) on ``threads`` threads."""

    def __init__(
        self,
        store: Store,
        queues: Sequence[str],
        threads: int = 1,
        burst: bool = False,
        worker_id: str | None = None,
        flags: StopFlags | None = None,
        options: WorkerOptions | None = None,
    ) -> None:
        if not queues:
            raise ValueError("a worker needs at least one queue")
        self.store = store
        self.queues = list(queues)
        self.threads = max(1, int(threads))
        self.burst = burst
        self.worker_id = worker_id or make_worker_id()
        self.flags = flags or StopFlags()
        self.options = options or WorkerOptions()
        self.hooks = self.options.hooks or WorkerHooks()
        self.registration = Registration(
            store, self.worker_id, self.queues, self.threads, self.options.supervisor
        )
        self.heartbeat = Heartbeat(store, store.settings.rescue_interval_seconds, self._tick)
        reloader = (self.options.reloader or Reloader()) if self.options.reload else None
        if reloader is not None:
            reloader.snapshot()
        self.runner = Runner(
            store, self.heartbeat.watch, self.heartbeat.unwatch, reloader, threads=self.threads
        )
        self.webhook = attach(self.heartbeat, self.runner, store)  # stalls and failures.
        self.processed = 0
        self.reserved = 0
        self.recycle_reason: str | None = None  # why the worker retired on its own, if it did.
        self.store_error: str | None = None  # why a burst ended early: the store failed.
        self.claims = Trouble("claims", log)  # the store failing at claims, told once.
        self._count_lock = threading.Lock()
        self._consumers: list[threading.Thread] = []
        self._batches: list[RunAhead] = []  # each consumer's run-ahead (see worker.batch).
        self._idle_threads = 0  # consumers waiting for work now.
        self.idle_gate = IdleGate(self._interrupt_listener)  # one idle thread listens.

    def run(self) -> int:
        """Work until drained (or, with ``burst``, until nothing is ready; or until retired);
        returns how many jobs this worker settled."""
        log.info(
            "worker %s on %s with %d thread(s)", self.worker_id, ",".join(self.queues), self.threads
        )
        self.registration.register()
        self.store.rescue_expired()
        self.heartbeat.start()
        self._consumers = [
            threading.Thread(target=self._consume, args=(k,), name=f"zerog-consumer-{k}")
            for k in range(self.threads)
        ]
        for thread in self._consumers:
            thread.daemon = True  # a job that never returns must not keep the process alive.
            thread.start()
        try:
            self._wait()
        finally:
            self._release_running()
            self.heartbeat.stop()
            self.registration.unregister()
            self.webhook.close(WEBHOOK_CLOSE_SECONDS)
        return self.processed

    def _wait(self) -> None:
        """Wait for consumers; once draining, give them the grace period, no more."""
        deadline: float | None = None
        while any(t.is_alive() for t in self._consumers):
            if self.flags.draining.is_set() and deadline is None:
                deadline = time.monotonic() + self.store.settings.grace_seconds
                log.info(
                    "draining: waiting up to %.0f s for running jobs",
                    self.store.settings.grace_seconds,
                )
                self._wake_all()
            if self.flags.now.is_set() or (deadline is not None and time.monotonic() > deadline):
                return
            for thread in self._consumers:
                thread.join(timeout=0.1)

    def _release_running(self) -> None:
        """Give back what still runs after the grace period, with its checkpoint; a job an
        operator cancelled or paused meanwhile ends that way instead of going back. The
        batches' finished runs are written and their unstarted jobs given back first."""
        for batch in self._run_aheads():
            self._spill(batch)
        for context in self.heartbeat.running():
            context.lost = True  # the job's thread may go on; its writes are no longer ours.
            uuid = context.lease.uuid
            try:
                self._give_back(context)
            except BackendError as exc:
                log.warning("could not release job %s: %s", uuid, exc)

    def _give_back(self, context: RunContext) -> None:
        values = context.job.dump_values()
        if context.control == Control.CANCEL:
            self.store.settle(context.lease, Settlement.cancelled(context.take()))
            log.warning("job %s cancelled at shutdown", context.lease.uuid)
            return
        if context.control == Control.PAUSE:
            self.store.settle(context.lease, Settlement.paused(context.take(values)))
            log.warning("job %s paused at shutdown", context.lease.uuid)
            return
        self.store.release(context.lease, context.take(values))
        log.warning(
            "released job %s at shutdown",
            context.lease.uuid,
            extra={"event": "job.released", "job_id": context.lease.uuid},
        )

    # --- consumers ---------------------------------------------------------------------------

    def _consume(self, thread: int) -> None:
        batch = RunAhead(self.options.batch)
        with self._count_lock:
            self._batches.append(batch)
        idle = MIN_IDLE_SECONDS
        woke = False  # this thread comes from an idle wait (see worker.idle).
        try:
            while True:
                # Draining gives claimed jobs back; retiring (max_jobs) runs them first.
                reservation = None if self.flags.draining.is_set() else batch.next()
                if reservation is not None:
                    idle = self._next_idle(MIN_IDLE_SECONDS / 2)
                    self._execute(thread, reservation, batch)
                    self._finished_job()
                elif self._refill(batch):
                    if woke:
                        self.idle_gate.claimed()  # more may be ready: one more thread looks.
                    woke = False
                    continue
                elif self.burst or not self._reserving():
                    return
                else:
                    self._idle(+1)
                    try:
                        self.idle_gate.wait(self._listen, idle)
                    finally:
                        self._idle(-1)
                    idle = self._next_idle(idle)
                    woke = True
        finally:
            self._spill(batch)

    def _listen(self, seconds: float) -> None:
        """The idle gate's listener waits on the store itself."""
        self.store.wait_for_work(seconds, self.queues)

    def _interrupt_listener(self) -> None:
        """Wake this process's thread waiting on the store (not the other processes')."""
        self.store.waiter().interrupt()

    def _wake_all(self) -> None:
        """Wake every idle thread: the listener through the store, the others at the gate."""
        self.store.wake()
        self.idle_gate.wake_all()

    def _next_idle(self, idle: float) -> float:
        """How long the next idle wait may last: a whole poll interval when the backend wakes
        this process for other processes' work, else doubling from a few milliseconds (only
        polling finds that work)."""
        poll = self.store.settings.poll_interval_seconds
        return poll if self.store.hears_others else min(idle * 2, poll)

    def _execute(self, thread: int, reservation: Reservation, batch: RunAhead) -> None:
        """Run one job (in its sandbox, if any) and hand its settlement to the batch. A
        completion waits there, to be written with the next claim; any other ending is
        written at once (a pipeline step alone, since it may be refused), together with what
        the batch holds and, when nothing is claimed ahead, the next job."""
        self.hooks.began(reservation)
        started = time.monotonic()
        with self._sandbox(thread):
            ended = self.runner.execute(reservation)
        batch.ran(time.monotonic() - started)
        settlement = ended.settlement
        if settlement is None:
            self.hooks.settled(ended.lease)
            return
        if settlement.queue is not None:
            self.runner.write_alone(ended)
            self.hooks.settled(ended.lease)
            return
        self.hooks.ran(ended.lease)
        batch.finished((ended.lease, settlement))
        if settlement.state != State.COMPLETE:
            self._refill(batch)

    def _refill(self, batch: RunAhead) -> bool:
        """Write the batch's finished runs and claim its next jobs, in one step; False when
        no job was claimed."""
        queues = self._next_queues()
        with batch.lock:
            done = batch.take_done()
            count = self._claimable(batch.next_size()) if queues and not batch.ahead else 0
            if not done and not count:
                return False
            try:
                taken = self.store.settle_batch(done, queues, count, self.worker_id)
            except BackendError as exc:  # the leases expire and the jobs are rescued: not lost.
                wait = self._store_failed(_writing(len(done), count), exc)
                taken = []
            else:
                wait = 0.0
                self.claims.ok()
            for lease, _settlement in done:
                self.hooks.settled(lease)
            self._claimed(batch, taken)
        if wait:
            self.store.wait_for_work(wait)  # back off; a stop wakes it.
        return bool(taken)

    def _store_failed(self, what: str, exc: BackendError) -> float:
        """A write to the store failed: told once (see worker.trouble); a burst ends here,
        with the error kept for its exit code. Returns how long to wait before trying again."""
        wait = self.claims.failed(what, exc)
        if self.burst and self.store_error is None:
            self.store_error = f"{what} failed: {exc}"
            return 0.0
        return wait

    def _claimed(self, batch: RunAhead, taken: list[Reservation]) -> None:
        for reservation in taken:
            self.hooks.reserved(reservation)
            self._took_job()
        batch.claimed(taken)

    def _claimable(self, size: int) -> int:
        """How many jobs the next claim may take: the batch's size, within ``max_jobs``; one
        while a sibling thread is idle (jobs claimed ahead would wait behind this thread's
        run while that one waits for work: a batch is for a process that is busy)."""
        limit = self.options.max_jobs
        with self._count_lock:
            if self._idle_threads:
                size = 1
            if limit is None:
                return size
            return max(0, min(size, limit - self.reserved))

    def _idle(self, change: int) -> None:
        with self._count_lock:
            self._idle_threads += change

    def _spill(self, batch: RunAhead) -> None:
        """Write the batch's finished runs and give its unstarted jobs back to the queue
        (attempt refunded): a job of the batch runs long, or the worker stops."""
        with batch.lock:
            done, ahead = batch.take_done(), batch.take_ahead()
            if done:
                try:
                    self.store.settle_batch(done, None, 0, self.worker_id)
                except BackendError as exc:
                    self._store_failed(_writing(len(done), 0), exc)
                for lease, _settlement in done:
                    self.hooks.settled(lease)
            for reservation in ahead:
                try:
                    self.store.release(reservation.lease)
                except BackendError as exc:  # its lease expires and the job is rescued.
                    log.warning("could not give back job %s: %s", reservation.lease.uuid, exc)
                self.hooks.settled(reservation.lease)

    def _sandbox(self, thread: int) -> contextlib.AbstractContextManager[object]:
        sandboxes = self.options.sandboxes
        return contextlib.nullcontext() if sandboxes is None else sandboxes.entered(thread)

    def _reserving(self) -> bool:
        """Whether to take more jobs: not draining, and not retiring."""
        return not self.flags.draining.is_set() and self.recycle_reason is None

    def _next_queues(self) -> list[str] | None:
        """The queues to claim from with a settlement; None when stopping (claim nothing)."""
        return self.queues if self._reserving() else None

    def _took_job(self) -> None:
        """Count a reservation; at ``max_jobs`` the worker retires. Threads that reserved at
        the same moment may each bring one more job: up to ``threads`` - 1 over."""
        limit = self.options.max_jobs
        with self._count_lock:
            self.reserved += 1
            if limit is not None and self.reserved >= limit:
                self._retire(f"max-jobs ({limit})")

    def _finished_job(self) -> None:
        limit = self.options.max_memory_bytes
        with self._count_lock:
            self.processed += 1
        if limit is not None:
            rss = procinfo.rss_bytes()
            if rss > limit:
                self._retire(f"max-memory ({rss >> 20} MiB > {limit >> 20} MiB)")

    def _retire(self, reason: str) -> None:
        if self.recycle_reason is None:
            self.recycle_reason = reason
            log.info("worker %s retires: %s", self.worker_id, reason)
            self._wake_all()

    # --- hooks -------------------------------------------------------------------------------

    def _tick(self, running: list[RunContext]) -> None:
        now = time.monotonic()
        draining = self.flags.draining.is_set()  # what a batch holds goes back at once.
        for batch in self._run_aheads():
            if (draining and not batch.empty()) or batch.stale(now):
                self._spill(batch)
        self.registration.refresh([context.lease.uuid for context in running])
        self.hooks.tick(running)

    def _run_aheads(self) -> list[RunAhead]:
        with self._count_lock:
            return list(self._batches)

    def stop(self, now: bool = False) -> None:
        """Ask the worker to drain (or, with ``now``, to stop at once)."""
        self.flags.request()
        if now:
            self.flags.request()
        self._wake_all()


def _writing(finished: int, claims: int) -> str:
    """What a failed write was doing, in words: "claiming up to 4 jobs", "writing 3 finished
    runs and claiming up to 4 jobs", "writing 3 finished runs"."""
    parts = []
    if finished:
        parts.append(f"writing {finished} finished run{'s' if finished > 1 else ''}")
    if claims:
        parts.append(f"claiming up to {claims} job{'s' if claims > 1 else ''}")
    return " and ".join(parts)
