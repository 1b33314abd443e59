"""How an idle worker waits for work: a :class:`Waiter` per process, from its backend.

A waiter wakes its waiting threads when a job may have become ready. That is a hint, never a
promise: the claim that follows decides, and finds nothing at times. Every waiter is woken by
its own process (:meth:`Waiter.interrupt`: a put, a drain, a stop); a backend that can also
hear the other processes' writes (beanstalkd's blocking reserve, PostgreSQL's NOTIFY, Redis's
blocking pops, a socket beside a SQLite file) says so with :attr:`Waiter.hears_others`, and
its workers then sleep a whole poll interval between claims instead of backing off from a few
milliseconds: the wake-up comes when the work does.
"""

from __future__ import annotations

import abc
import threading
from collections.abc import Sequence


class Waiter(abc.ABC):
    """One process's way to wait for work on one backend; safe for many threads."""

    hears_others: bool = False
    """Whether a job made ready by another process wakes this waiter (else only polling
    finds it)."""

    @abc.abstractmethod
    def wait(self, queues: Sequence[str], timeout: float) -> bool:
        """Block up to ``timeout`` seconds, less when a job may have become ready in one of
        ``queues`` (or anywhere, for a waiter that cannot tell queues apart) or when
        :meth:`interrupt` is called. True when woken before the timeout."""

    @abc.abstractmethod
    def interrupt(self) -> None:
        """Wake every thread of this process waiting now (work was put here, or the worker
        stops)."""

    def close(self) -> None:  # noqa: B027 - a waiter may hold nothing to release.
        """Release what the waiter holds (a connection, a socket)."""


class LocalWaiter(Waiter):
    """Woken only by its own process: the waiter of a backend that hears no other."""

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._generation = 0  # counts interrupts, so that a wait knows it was woken.

    def wait(self, queues: Sequence[str], timeout: float) -> bool:
        with self._condition:
            seen = self._generation
            self._condition.wait_for(lambda: self._generation != seen, max(0.0, timeout))
            return self._generation != seen

    def interrupt(self) -> None:
        with self._condition:
            self._generation += 1
            self._condition.notify_all()
