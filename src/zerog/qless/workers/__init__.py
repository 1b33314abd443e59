"""qless-py's workers: :class:`Worker` (what they share) and, in their own modules,
``SerialWorker`` (one job at a time, in this process), ``GeventWorker`` (a pool of greenlets;
needs gevent) and ``ForkingWorker`` (zerog's supervisor: ``zerog worker`` forks and keeps its
children).

A worker pops from its queues in order, hands out the jobs it should resume first, and runs
each with ``job.process()`` in a sandbox directory emptied before and after. A listener thread
(:mod:`zerog.qless.listener`) tells it which of its jobs it lost, and :meth:`Worker.kill`
stops running those.
"""

from __future__ import annotations

import contextlib
import faulthandler
import json
import logging
import os
import shutil
import signal
import threading
from collections.abc import Iterable, Iterator, Sequence
from types import FrameType
from typing import Any

from zerog.errors import LostLockError
from zerog.qless.client import Client
from zerog.qless.job import Job
from zerog.qless.listener import CHANNEL_PREFIX, Listener
from zerog.qless.queue import Queue

log = logging.getLogger(__name__)

LOST = ("canceled", "lock_lost", "put")  # the events after which a worker stops a job.
_title = ""  # the process title, when setproctitle is not installed.


class Worker:
    """What every qless worker shares: queues, a client, jobs to resume, a listener."""

    @classmethod
    def title(cls, message: str | None = None) -> str | None:
        """The process title, or set it to ``qless-py-worker <message>`` (shown by ``ps``
        when setproctitle is installed)."""
        global _title
        try:
            import setproctitle  # type: ignore[import-not-found]
        except ImportError:
            setproctitle = None
        if message is None:
            return str(setproctitle.getproctitle()) if setproctitle else _title
        _title = f"qless-py-worker {message}"
        if setproctitle:
            setproctitle.setproctitle(_title)
        log.info(message)
        return None

    @classmethod
    def divide(cls, jobs: Iterable[Any], count: int) -> list[list[Any]]:
        """``jobs`` in ``count`` groups whose sizes differ by one at most."""
        groups: list[list[Any]] = [[] for _ in range(count)]
        for index, job in enumerate(jobs):
            groups[index % count].append(job)
        return groups

    @classmethod
    def clean(cls, path: str) -> None:
        """Remove every file and directory in ``path``."""
        for name in os.listdir(path):
            target = os.path.join(path, name)
            if os.path.isdir(target) and not os.path.islink(target):
                shutil.rmtree(target)
            else:
                os.remove(target)

    @classmethod
    @contextlib.contextmanager
    def sandbox(cls, path: str) -> Iterator[None]:
        """Make ``path`` (if needed) and empty it; empty it again afterwards, whatever
        happens inside."""
        os.makedirs(path, exist_ok=True)
        cls.clean(path)
        try:
            yield
        finally:
            cls.clean(path)

    def __init__(self, queues: Sequence[str | Queue], client: Client, **kwargs: Any) -> None:
        self.client = client
        self.queues = [client.queues[q] if isinstance(q, str) else q for q in queues]
        self.kwargs = kwargs
        resume = kwargs.get("resume") or []
        self.resume: list[Job] = self.resumable() if resume is True else list(resume)
        self.interval = float(kwargs.get("interval", 60))
        self.shutdown = False
        self._stopping = threading.Event()
        self._old_handlers: dict[int, Any] = {}
        self._listener: Listener | None = None

    def resumable(self) -> list[Job]:
        """The jobs this client's worker name holds in this worker's queues."""
        jids = self.client.workers[self.client.worker_name]["jobs"]
        names = {queue.name for queue in self.queues}
        jobs = self.client.jobs.get(*jids)
        return [job for job in jobs if isinstance(job, Job) and job.queue_name in names]

    def jobs(self) -> Iterator[Job | None]:
        """The jobs to run: those to resume that still heartbeat, then one popped from each
        queue in turn; None when a round found nothing."""
        for resumed in self.resume:
            try:
                resumed.heartbeat()
            except LostLockError:
                log.warning("cannot resume %s: its lock is gone", resumed.jid)
                continue
            yield resumed
        while True:
            seen = False
            for queue in self.queues:
                popped = queue.pop()
                if popped is not None:
                    seen = True
                    if self._listener is not None:
                        self._listener.watch(popped.jid, self.client.worker_name)
                    yield popped
            if not seen:
                yield None

    @contextlib.contextmanager
    def listener(self) -> Iterator[Listener]:
        """Listen for lost jobs in a thread (``self.listen``) while the block runs."""
        channel = CHANNEL_PREFIX + self.client.worker_name
        listener = Listener(self.client.store, [channel])
        thread = threading.Thread(target=self.listen, args=(listener,), name="qless-listener")
        thread.daemon = True
        thread.start()
        self._listener = listener
        try:
            yield listener
        finally:
            self._listener = None
            listener.unlisten()
            thread.join()

    def listen(self, listener: Listener) -> None:
        """Stop the jobs this worker loses (``kill``)."""
        for message in listener.listen():
            data = json.loads(message["data"])
            if data["event"] in LOST:
                log.warning("lost job %s (%s)", data["jid"], data["event"])
                self.kill(data["jid"])

    def kill(self, jid: str) -> None:
        """Stop running ``jid``: each kind of worker does it its way."""
        raise NotImplementedError('Derived classes must override "kill"')

    def signals(self, signals: Sequence[str] = ("QUIT", "USR1")) -> None:
        """SIGQUIT: finish the job at hand, then stop. SIGUSR1: write every thread's stack
        to stderr. Installed only from the main thread; :meth:`restore_signals` undoes it."""
        if threading.current_thread() is not threading.main_thread():
            return
        for name in signals:
            number = getattr(signal, f"SIG{name}")
            if number == signal.SIGUSR1:
                faulthandler.register(number, all_threads=True)
                continue
            self._old_handlers[number] = signal.signal(number, self.handler)

    def restore_signals(self) -> None:
        """Put back the handlers :meth:`signals` replaced."""
        for number, handler in self._old_handlers.items():
            signal.signal(number, handler)
        self._old_handlers.clear()

    def handler(self, signum: int, frame: FrameType | None) -> None:
        """A signal only sets a flag; the worker acts on it between jobs."""
        self.stop()

    def stop(self) -> None:
        """Finish the job at hand, then stop."""
        self.shutdown = True
        self._stopping.set()

    def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` between rounds that found nothing (a stop ends the wait)."""
        self._stopping.wait(seconds)


__all__ = ["Worker"]
