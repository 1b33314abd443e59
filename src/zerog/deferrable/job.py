"""Deferred calls run by ``zerog worker``: a job class for records of kind ``function``.

The worker imports the function's module, which defines the ``Deferrable`` instance that
decorated it, so the instance's metadata consumers and event consumers see the run just as
with ``run_once()``: the same decision (:meth:`Deferrable.decide`), the same events, the same
retries (the item's ``attempts`` and backoff, saved with the job) and error queue.
"""

from __future__ import annotations

import time
from typing import Any

from zerog import job_log, kinds, run_context
from zerog.deferrable import calls
from zerog.deferrable.deferrable import Decision, Deferrable
from zerog.deferrable.queue.base import from_values, to_values
from zerog.errors import WFErrorContinue, WFErrorFinish
from zerog.jobs import BaseJob
from zerog.model import Record


class FunctionJob(BaseJob):
    """Runs one deferred call; retries and the error queue follow deferrable's rules."""

    def __init__(self, item: dict[str, Any]) -> None:
        super().__init__()
        self.item = item
        self._retry_delay: float | None = None

    @classmethod
    def from_record(cls, record: Record) -> FunctionJob:
        """The job of a stored deferred call."""
        job = cls(from_values(record["values"]))
        job._load_status(record)
        return job

    def dump_values(self) -> dict[str, Any]:
        """The item as it is now (its attempts count up at each retry)."""
        return to_values(self.item)

    def run(self) -> tuple[float, bool]:
        instance = self._instance()
        instance._emit("pop", self.item)
        decision = instance.decide(self.item)
        try:
            self._follow(instance, decision)
        finally:
            instance._emit("complete", self.item)
        return time.time(), False

    def _follow(self, instance: Deferrable, decision: Decision) -> None:
        if decision.outcome == "retry":
            instance.next_attempt(self.item)
            self._retry_delay = float(self.item.get("delay") or 0)
            context = run_context.current()
            if context is not None:
                context.checkpoint()  # the item's new attempts count goes with the retry.
            instance._emit("retry", self.item)
            raise WFErrorContinue(decision.entry()["msg"])
        if decision.outcome == "error":
            instance.send_to_error_queue(self.item, decision.error)
            raise WFErrorFinish(decision.entry()["msg"])
        if decision.outcome == "expired":
            instance._emit("expire", self.item)
            job_log.info("not run: its TTL passed before it started")

    def retry_delay(self, attempt: int) -> float | None:
        """deferrable's backoff, decided when the run failed."""
        return self._retry_delay

    def _instance(self) -> Deferrable:
        function = calls.resolve(self.item["method"])
        instance = getattr(function, "deferrable_instance", None)
        if not isinstance(instance, Deferrable):
            raise WFErrorFinish(f"{self.item['method']} is not a deferrable function")
        return instance


kinds.register("function", FunctionJob.from_record)
