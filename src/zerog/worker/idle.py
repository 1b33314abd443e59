"""One idle consumer of a worker listens to the store; the others wait for their turn.

A worker with many threads (``--threads 25``) used to put every idle thread into the store's
wait: a wake-up (a NOTIFY, a doorbell's ring, a Redis push) woke them all, and each ran a
claim, so one enqueued job cost up to 25 claims per worker process, nearly all finding
nothing. On PostgreSQL that herd of empty claims slowed the enqueues themselves: 50 jobs of 2 s
into 2 x 25 threads took 3.3 s where 2 s is ideal, the producer's commits queueing behind the
workers' (a put took 24 ms with the threads idle, 3.5 ms without workers).

With the gate, one idle thread (the *listener*) waits on the store; the others wait on the
gate. When the listener wakes it gives the role to a waiting thread and claims; a thread that
woke from idle and claimed a job hands a *turn* to one more waiting thread, which claims in
its turn (the listener, when no thread waits at the gate): a burst of jobs starts a chain of
claims as long as the burst, and a single job costs one claim per process. A thread whose
wait on the gate times out claims anyway (polling stays the fallback, as before), and a stop
or drain wakes every thread at once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class IdleGate:
    """The idle consumers of one worker process; safe for many threads."""

    def __init__(self, interrupt: Callable[[], object]) -> None:
        self._interrupt = interrupt  # wakes the listener out of the store's wait.
        self._condition = threading.Condition()
        self._listening = False  # a thread waits on the store now.
        self._waiting = 0  # threads waiting on the gate (not the listener).
        self._turns = 0  # claims handed to waiting threads, each taken by one.
        self._released = 0  # counts wake_all calls, so that every waiter sees one.

    def wait(self, listen: Callable[[float], object], timeout: float) -> None:
        """Wait up to ``timeout`` seconds for a reason to claim: as the listener, by calling
        ``listen(seconds)`` (the store's wait), else for a turn, the listener's role, or
        :meth:`wake_all`."""
        deadline = time.monotonic() + timeout
        with self._condition:
            released = self._released
            self._waiting += 1
            try:
                while self._listening and not self._turns and self._released == released:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        return  # the poll interval passed: claim, as polling would.
                    self._condition.wait(remaining)
                if self._turns:
                    self._turns -= 1
                    return
                if self._released != released:
                    return
                self._listening = True
            finally:
                self._waiting -= 1
        try:
            listen(max(0.0, deadline - time.monotonic()))
        finally:
            with self._condition:
                self._listening = False
                self._condition.notify()  # a waiting thread takes the role over.

    def claimed(self) -> None:
        """A thread that woke from idle claimed a job: more may be ready, so one more idle
        thread claims: one waiting at the gate, else the listener. (The wake-up that woke
        this thread may have stood for several jobs, and the thread that took the listener's
        role over from it would otherwise sleep on with those jobs ready.)"""
        with self._condition:
            if self._waiting > self._turns:
                self._turns += 1
                self._condition.notify()
                return
            listening = self._listening
        if listening:
            self._interrupt()

    def wake_all(self) -> None:
        """Wake every waiting thread (the worker stops, drains or retires); the listener is
        woken by the store's own interrupt."""
        with self._condition:
            self._released += 1
            self._condition.notify_all()
