"""How a job's ``run()`` ended, as the runner decides from it: it returned, or it raised."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Returned:
    """run() returned: resume at this epoch time if ``requeue``, else the job is done."""

    resume_at: float
    requeue: bool


@dataclass(frozen=True)
class Failure:
    """run() raised: the exception and its formatted traceback."""

    exc: BaseException
    traceback: str


def parse_return(outcome: Any) -> Returned:
    """run() returns ``(resume_at, requeue)``; None means done."""
    if outcome is None:
        return Returned(time.time(), False)
    try:
        resume_at, requeue = outcome
        return Returned(float(resume_at), bool(requeue))
    except (TypeError, ValueError):
        raise TypeError(
            f"run() must return (resume_at_epoch_seconds, requeue), not {outcome!r}"
        ) from None
