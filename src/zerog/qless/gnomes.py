"""The seed README's gnomes, ready to put: ``queue.put(qless.gnomes.GnomesJob, {})``.

A three-step pipeline (collect underpants, ?, profit) that runs in any zerog worker watching
the queues ``underpants``, ``unknown`` and ``profit``. Unlike qless-py's own demo module, it
neither sleeps nor fails at random: it is an example to run, not a load test.
"""

from __future__ import annotations

from typing import Any


class GnomesJob:
    """Each step updates the data and moves the job on to the next queue."""

    @staticmethod
    def underpants(job: Any) -> None:
        """1) Collect underpants (how many: ``job['count']``, default 10)."""
        job["underpants"] = {"collected": int(job["count"] or 10)}
        job.complete("unknown")

    @staticmethod
    def unknown(job: Any) -> None:
        """2) ?"""
        job["unknown"] = ["?"] * 3
        job.complete("profit")

    @staticmethod
    def profit(job: Any) -> None:
        """3) Profit: a dollar per pair collected."""
        collected = (job["underpants"] or {}).get("collected", 0)
        job["profit"] = f"${collected:.2f}"
        job.complete()
