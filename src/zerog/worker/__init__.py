"""Workers: reserve jobs, run them with a heartbeat beside them, settle each exactly once.

:class:`Worker` is one worker process's loop (M threads); :class:`Supervisor` forks and keeps
N of them (``zerog worker``). A job finds its scratch directory with
:func:`zerog.worker.sandbox.current` when the pool has ``--workdir``.
"""

from zerog.worker.config import PoolConfig
from zerog.worker.loop import Worker, WorkerHooks, WorkerOptions, make_worker_id
from zerog.worker.runner import backoff_seconds
from zerog.worker.signals import StopFlags, stop_on_signals
from zerog.worker.supervisor import Supervisor, supervise

__all__ = [
    "PoolConfig",
    "StopFlags",
    "Supervisor",
    "Worker",
    "WorkerHooks",
    "WorkerOptions",
    "backoff_seconds",
    "make_worker_id",
    "stop_on_signals",
    "supervise",
]
