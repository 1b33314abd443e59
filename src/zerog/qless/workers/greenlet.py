"""qless-py's ``GeventWorker``: runs jobs in a pool of greenlets (``greenlets=10``).

For I/O-bound jobs whose libraries cooperate with gevent (``patch()`` monkey-patches the
standard library before the jobs run). It needs gevent: ``pip install 'zerog[gevent]'``;
without it, making one raises ConfigurationError. Each greenlet has its sandbox,
``<cwd>/qless-py-workers/greenlet-<k>`` (``job.sandbox``).
"""

from __future__ import annotations

import importlib
import os
from typing import Any

from zerog.errors import ConfigurationError
from zerog.qless.job import Job
from zerog.qless.workers import Worker

END = object()  # what next() gives once jobs() ended.


def gevent() -> Any:
    """The gevent module, or ConfigurationError saying how to get it."""
    try:
        return importlib.import_module("gevent")
    except ImportError as exc:
        raise ConfigurationError(
            f"GeventWorker needs gevent, which is not installed ({exc}): pip install "
            "'zerog[gevent]', or run the jobs with SerialWorker, ForkingWorker or "
            "`zerog worker --threads N`"
        ) from exc


class GeventWorker(Worker):
    """Up to ``greenlets`` jobs at once, each in a greenlet of its own."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.gevent = gevent()
        importlib.import_module("gevent.pool")
        super().__init__(*args, **kwargs)
        count = int(self.kwargs.pop("greenlets", 10))
        self.pool = self.gevent.pool.Pool(count)
        self.greenlets: dict[str, Any] = {}  # jid -> the greenlet running it.
        root = self.kwargs.pop("sandbox", os.path.join(os.getcwd(), "qless-py-workers"))
        self.sandboxes = [os.path.join(root, f"greenlet-{k}") for k in range(count)]

    def process(self, job: Job) -> None:
        """Run one job in a free sandbox."""
        sandbox = self.sandboxes.pop(0)
        try:
            with self.sandbox(sandbox):
                job.sandbox = sandbox
                job.process()
        finally:
            self.greenlets.pop(job.jid, None)
            self.sandboxes.append(sandbox)

    def kill(self, jid: str) -> None:
        """Kill the greenlet running ``jid`` (if it still runs)."""
        greenlet = self.greenlets.get(jid)
        if greenlet is not None:
            greenlet.kill()

    @classmethod
    def patch(cls) -> None:
        """Monkey-patch the standard library for gevent (before any job runs)."""
        importlib.import_module("gevent.monkey").patch_all()

    def run(self) -> None:
        """Run jobs until stopped (or until ``jobs()`` ends), then wait for the pool."""
        self.signals()
        self.patch()
        try:
            with self.listener():
                self._loop()
        finally:
            self.pool.join()
            self.restore_signals()

    def _loop(self) -> None:
        generator = self.jobs()
        while not self.shutdown:
            self.pool.wait_available()
            job = next(generator, END)
            if job is END:
                return
            if not isinstance(job, Job):
                self.gevent.sleep(self.interval)
                continue
            _ = job.klass  # import the class here: imports inside a greenlet misbehave.
            greenlet = self.gevent.Greenlet(self.process, job)
            self.greenlets[job.jid] = greenlet
            self.pool.start(greenlet)
