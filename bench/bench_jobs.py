"""The job of the drain benchmark: it does nothing, so what is measured is zerog itself."""

from __future__ import annotations

import time

from zerog import BaseJob

BENCH_TYPE = "bench_noop"
BENCH_QUEUE = "bench"


class NoopJob(BaseJob):
    """Returns at once: complete, no requeue."""

    JOB_TYPE = BENCH_TYPE
    QUEUE_NAME = BENCH_QUEUE

    def run(self) -> tuple[float, bool]:
        return time.time(), False
