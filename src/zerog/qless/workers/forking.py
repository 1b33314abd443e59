"""qless-py's ``ForkingWorker``, on zerog's runtime: ``run()`` is ``zerog worker``.

qless-py's forking worker forked N children that each ran a ``SerialWorker`` and replaced the
ones that died. zerog's supervisor does that and more, so ``run()`` starts it, as
``python -m zerog worker --url <the client's store> -q <queue>... --workers N``, and keeps it
until :meth:`ForkingWorker.stop` (or ``shutdown = True``, or SIGTERM/SIGINT/SIGQUIT to this
process). Its children run each qless job with zerog's runner: the lease heartbeats on its own,
the job runs in ``<workdir>/zerog-workers/sandbox-<k>``, a child that dies is replaced (with
backoff) and its job rescued, a changed job module is reloaded, the dashboard sees the workers.

The children import the job classes from the same ``sys.path`` as this process (a fork would
have inherited it). ``spawn()`` still makes the ``klass`` worker (``SerialWorker`` by default)
for code that runs one itself; the supervisor's children do not use it. A ``memory://`` store
lives in one process only, so a forking worker needs another (ConfigurationError says so).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from typing import Any

from zerog.errors import ConfigurationError
from zerog.qless.data import import_klass
from zerog.qless.workers import Worker
from zerog.qless.workers.serial import SerialWorker

POLL_SECONDS = 0.05  # how often run() looks at ``shutdown`` and at the supervisor.
STOP_SECONDS = 0.1  # between the two SIGTERMs: drain, then stop now (see zerog.worker).
KILL_AFTER_SECONDS = 10.0  # a supervisor still there this long after stopping is killed.
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGQUIT)


class ForkingWorker(Worker):
    """``workers`` children (default: one per CPU) run the queues' jobs; see the module."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.klass: type[Worker] | str = self.kwargs.pop("klass", SerialWorker)
        self.count = int(self.kwargs.pop("workers", 0) or os.cpu_count() or 1)
        self.workdir = str(self.kwargs.pop("workdir", os.getcwd()))
        self.supervisor: subprocess.Popen[bytes] | None = None

    def spawn(self, **kwargs: Any) -> Worker:
        """A ``klass`` worker on the same queues and client (what qless ran in a child)."""
        options = {**self.kwargs, **kwargs}
        klass = import_klass(self.klass) if isinstance(self.klass, str) else self.klass
        worker: Worker = klass(self.queues, self.client, **options)
        return worker

    def command(self) -> list[str]:
        """The ``zerog worker`` command line that runs this worker's queues."""
        url = self.client.store.settings.url
        if url.startswith("memory:"):
            raise ConfigurationError(
                "a ForkingWorker's children need a store other processes can open, not "
                f"{url!r}: give the client a sqlite://, postgresql:// or redis:// URL"
            )
        queues = [arg for queue in self.queues for arg in ("-q", queue.name)]
        return [
            sys.executable, "-m", "zerog", "worker", "--url", url, *queues,
            "--workers", str(self.count), "--interval", str(self.interval),
            "--workdir", self.workdir,
        ]  # fmt: skip

    def run(self) -> int | None:
        """Run the supervisor until stopped; returns its exit code (None: still stopping)."""
        self.signals()
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
        self.supervisor = subprocess.Popen(self.command(), env=env)
        try:
            while self.supervisor.poll() is None and not self.shutdown:
                self._stopping.wait(POLL_SECONDS)
        finally:
            self.restore_signals()
            self._stop_supervisor()
        return self.supervisor.returncode

    def _stop_supervisor(self) -> None:
        """Stop now: the children give their jobs back and exit (two SIGTERMs)."""
        supervisor = self.supervisor
        if supervisor is None or supervisor.poll() is not None:
            return
        supervisor.terminate()
        try:
            supervisor.wait(STOP_SECONDS)
            return
        except subprocess.TimeoutExpired:
            supervisor.terminate()
        try:
            supervisor.wait(KILL_AFTER_SECONDS)
        except subprocess.TimeoutExpired:
            supervisor.kill()
            supervisor.wait()

    def signals(self, signals: Any = None) -> None:
        """SIGTERM, SIGINT, SIGQUIT: stop (only from the main thread)."""
        if threading.current_thread() is not threading.main_thread():
            return
        for number in STOP_SIGNALS:
            self._old_handlers[number] = signal.signal(number, self.handler)

    def kill(self, jid: str) -> None:
        """Nothing to do here: the supervisor's children stop a job whose lease they lose."""
