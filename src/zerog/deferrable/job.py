"""Deferred calls run by ``zerog worker``: a job class for records of kind ``function``.

The worker imports the function's module, which defines the ``Deferrable`` instance that
decorated it, so the instance's metadata consumers and event consumers see the run just as
with ``run_once()``.
"""

from __future__ import annotations

import time
from typing import Any

from zerog import job_log, kinds
from zerog.deferrable import calls
from zerog.deferrable.deferrable import Decision, Deferrable
from zerog.errors import WFErrorContinue, WFErrorFinish
from zerog.jobs import BaseJob
from zerog.model import Record


class FunctionJob(BaseJob):
    """Runs one deferred call; retries and the error queue follow deferrable's rules."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__()
        self.item: dict[str, Any] = kwargs

    @classmethod
    def from_record(cls, record: Record) -> FunctionJob:
        """The job of a stored deferred call."""
        job = cls(**record["values"])
        job._load_status(record)
        job.item["attempts"] = record["attempts"] - 1  # deferrable counts from 0.
        return job

    def dump_values(self) -> dict[str, Any]:
        """The item, as pushed (a deferred call has no checkpoint of its own)."""
        return {k: v for k, v in self.item.items() if k != "attempts"}

    def run(self) -> tuple[float, bool]:
        instance = self._instance()
        instance._emit("pop", self.item)
        decision = instance.decide(self.item)
        self._retry_delay = decision.delay_seconds
        return self._follow(instance, decision)

    def _follow(self, instance: Deferrable, decision: Decision) -> tuple[float, bool]:
        if decision.outcome == "retry":
            self.item["attempts"] += 1
            instance._emit("retry", self.item)
            raise WFErrorContinue((decision.error or {}).get("msg", "retry"))
        if decision.outcome == "error":
            instance.send_to_error_queue(self.item, decision)
            raise WFErrorFinish((decision.error or {}).get("msg", "error"))
        if decision.outcome == "expired":
            instance._emit("expire", self.item)
            job_log.info("not run: its TTL passed before it started")
        instance._emit("complete", self.item)
        return time.time(), False

    def retry_delay(self, attempt: int) -> float | None:
        """deferrable's backoff, decided when the run failed."""
        return getattr(self, "_retry_delay", None)

    def _instance(self) -> Deferrable:
        function = calls.resolve(self.item["method"])
        instance = getattr(function, "deferrable_instance", None)
        if not isinstance(instance, Deferrable):
            raise WFErrorFinish(f"{self.item['method']} is not a deferrable function")
        return instance


kinds.register("function", FunctionJob.from_record)
