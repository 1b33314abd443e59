"""``job_log.iterate``: a loop over a job's items that checkpoints, resumes and reports by
itself (like Sidekiq's IterableJob).

The cursor is the number of items done. It lives on the job (``BaseJob.iteration_cursor``)
and is stored with the job's fields (:data:`zerog.jobs.CURSOR_KEY` in its values), so every
path that stores the fields stores it too, in the same write: a checkpoint every ``N`` items
or ``S`` seconds, a pause, a requeue, the end of the run. A run that starts with a cursor
skips that many items: after a crash it redoes at most the items since the last checkpoint
(fewer than the interval, plus the one in hand), after a pause or a requeue none.

An item is done when the loop asks for the next one. The item in hand when the loop is left
early (``break``, ``return``, an exception) is not: the next run starts with it, so every
item is done at least once, never skipped.

Between two items it is a ``job_log`` call like any other: an operator's cancel or pause
stops the job there (the cursor saved is then exact), and messages reach ``on_message``
callbacks there. With a known number of items (a sized collection, or ``total``) it sets
the completeness after each one, from which the store keeps the samples of the ETA.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterable, Iterator, Sized
from typing import TypeVar

from zerog import run_context

T = TypeVar("T")
DEFAULT_CHECKPOINT_SECONDS = 10.0  # with neither interval given: a crash costs ~10 s of work.


def iterate(
    items: Iterable[T],
    checkpoint_every: int | None = None,
    seconds: float | None = None,
    total: int | None = None,
) -> Iterator[T]:
    """Yield ``items`` from the job's cursor on, saving the cursor (with the job's fields)
    every ``checkpoint_every`` items and/or every ``seconds`` (10 s when neither is given).
    ``items`` must come in the same order at every run. Outside a job it yields them all."""
    if checkpoint_every is not None and checkpoint_every < 1:
        raise ValueError("checkpoint_every must be 1 or more")
    if seconds is not None and seconds <= 0:
        raise ValueError("seconds must be more than 0")
    if checkpoint_every is None and seconds is None:
        seconds = DEFAULT_CHECKPOINT_SECONDS
    context = run_context.current()
    if context is None:
        yield from items
        return
    if total is None and isinstance(items, Sized):
        total = len(items)
    yield from _resumed(context, items, checkpoint_every, seconds, total)


def _resumed(
    context: run_context.RunContext,
    items: Iterable[T],
    every: int | None,
    seconds: float | None,
    total: int | None,
) -> Iterator[T]:
    job = context.job
    done = job.iteration_cursor or 0
    since, saved_at = 0, time.monotonic()
    for item in itertools.islice(items, done, None):
        context.check()  # a cancel or pause stops here, between two items.
        context.deliver()
        yield item
        done += 1
        since += 1
        job.iteration_cursor = done
        if total:
            context.set_completeness(done / total)
        if (every is not None and since >= every) or (
            seconds is not None and time.monotonic() - saved_at >= seconds
        ):
            context.checkpoint()
            since, saved_at = 0, time.monotonic()
    job.iteration_cursor = done
    if since:
        context.checkpoint()
