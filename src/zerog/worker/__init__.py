"""Workers: reserve jobs, run them with a heartbeat beside them, settle each exactly once."""

from zerog.worker.loop import Worker, make_worker_id
from zerog.worker.runner import backoff_seconds
from zerog.worker.signals import StopFlags, stop_on_signals

__all__ = ["StopFlags", "Worker", "backoff_seconds", "make_worker_id", "stop_on_signals"]
