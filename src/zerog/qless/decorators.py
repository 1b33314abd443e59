"""``qless.retry(*exceptions)``: retry a job, rather than fail it, on transient errors.

    class Crawl:
        @staticmethod
        @qless.retry(ConnectionError, TimeoutError)
        def process(job):
            ...

When the decorated method raises one of the exceptions, the job is retried (``job.retry()``:
back in its queue, one retry fewer; failed as ``failed-retries-<queue>`` once none is left).
Any other exception still fails the job.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from zerog.qless.job import Job

Method = Callable[["Job"], Any]


def retry(*exceptions: type[BaseException]) -> Callable[[Method], Method]:
    """Decorate a job method so that ``exceptions`` retry the job instead of failing it."""

    def decorate(method: Method) -> Method:
        @functools.wraps(method)
        def retrying(job: Job) -> Any:
            try:
                return method(job)
            except exceptions:
                return job.retry()

        return retrying

    return decorate
