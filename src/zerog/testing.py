"""Helpers for testing your own jobs: an in-memory store, a clock you move, ``drain()`` and an
immediate mode.

    from zerog import testing

    def test_report():
        with testing.memory_store() as store:
            uuid = make_my_job({"fieldOne": "x"}).enqueue()
            testing.drain()
            assert zerog.get_job(uuid).state == "complete"

Nothing here sleeps: retries and delays are reached by moving the fake clock forward.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from zerog import store as store_module
from zerog.backends.memory import MemoryBackend
from zerog.model import State
from zerog.record import JobSpec
from zerog.run_context import RunContext
from zerog.settings import Settings
from zerog.store import Store, default_store
from zerog.worker.runner import Runner

TEST_WORKER = "zerog-testing"


class FakeClock:
    """A clock that moves only when told to."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move time forward."""
        self.now += seconds


class ImmediateStore(Store):
    """A store that runs each job as soon as it is enqueued, in the caller's thread."""

    def enqueue(self, spec: JobSpec) -> str:
        uuid = super().enqueue(spec)
        drain(self, queues=[spec.queue])
        return uuid


def make_store(immediate: bool = False, clock: FakeClock | None = None) -> Store:
    """A fresh in-memory store with a fake clock (``store.clock``)."""
    cls = ImmediateStore if immediate else Store
    return cls(MemoryBackend(clock=clock or FakeClock()), Settings(url="memory://"))


@contextmanager
def memory_store(immediate: bool = False) -> Iterator[Store]:
    """Use a fresh in-memory store as the process's store inside the block."""
    previous = store_module._default
    store = make_store(immediate=immediate)
    store_module.use(store)
    try:
        yield store
    finally:
        store_module.use(previous)


def drain(
    store: Store | None = None,
    queues: Sequence[str] | None = None,
    include_scheduled: bool = True,
    max_jobs: int = 10_000,
) -> Counter[str]:
    """Run jobs in this thread until none is ready; returns how each run ended.

    With ``include_scheduled`` (and a fake clock), the clock is moved to each scheduled job's
    time, so retries with backoff and requeued jobs run too.
    """
    store = store or default_store()
    runner = Runner(store, _ignore, _ignore)
    outcomes: Counter[str] = Counter()
    while sum(outcomes.values()) < max_jobs:
        names = list(queues) if queues else sorted(store.counts())
        reservation = store.reserve(names, TEST_WORKER) if names else None
        if reservation is not None:
            outcomes[runner.write_alone(runner.execute(reservation))] += 1
        elif not (include_scheduled and _advance_to_next(store, names)):
            break
    return outcomes


def _advance_to_next(store: Store, queues: Sequence[str]) -> bool:
    clock = store.clock
    if not isinstance(clock, FakeClock):
        return False
    due = [
        r["ready_at"]
        for queue in queues
        for r in store.list(state=State.SCHEDULED, queue=queue, limit=500).records
    ]
    if not due:
        return False
    clock.advance(max(0.0, min(due) - clock.now))
    return True


def _ignore(context: RunContext) -> None:
    """The heartbeat hook, unused: drain runs jobs inline with no lease to keep alive."""


__all__ = ["FakeClock", "ImmediateStore", "drain", "make_store", "memory_store"]
