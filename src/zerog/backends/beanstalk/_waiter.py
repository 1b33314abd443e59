"""An idle beanstalk worker waits in beanstalkd itself: a blocking reserve on its tubes.

beanstalkd wakes a blocked ``reserve-with-timeout`` the moment an entry of a watched tube is
ready (put by any process, released, kicked, or its delay run out), so the waiter hears every
process without any signal of zerog's own. One connection per process watches the queues'
tubes; one idle thread at a time blocks on it (the others wait for that thread to tell them).
The entry it gets is not claimed here, only noticed: it is released again at once, with its
priority and no delay (keeping its place: beanstalkd orders ready entries by priority, then
by id), and the woken consumers claim it the usual way, through the record store. That costs
two round trips on the loopback per wake-up, against a poll's up to a second.

beanstalkd counts whole seconds, so a wait lasts at least a second when nothing comes: the
waiter reports ``hears_others``, and the worker waits its whole poll interval anyway. A stop
(:meth:`BeanstalkWaiter.interrupt`) shuts the blocked connection's socket down, so a draining
worker does not wait out the second.
"""

from __future__ import annotations

import contextlib
import math
import socket
import threading
from collections.abc import Callable, Sequence

import greenstalk

from zerog.backends.contract import Waiter

MAX_BLOCK_SECONDS = 5  # one blocking reserve lasts at most this long (then the loop decides).
CONNECT_TIMEOUT_SECONDS = 5.0


class BeanstalkWaiter(Waiter):
    """This process's blocking reserve on the tubes of the queues its workers take."""

    hears_others = True

    def __init__(self, address: tuple[str, int], tube_of: Callable[[str], str]) -> None:
        self._address = address
        self._tube_of = tube_of
        self._client: greenstalk.Client[str] | None = None
        self._watching: tuple[str, ...] = ()
        self._listening = threading.Lock()  # held by the thread blocked in beanstalkd.
        self._woken = threading.Condition()
        self._generation = 0
        self._closed = False

    def wait(self, queues: Sequence[str], timeout: float) -> bool:
        with self._woken:
            seen = self._generation
        if self._listening.acquire(blocking=False):
            try:
                self._listen(queues, timeout)
            finally:
                self._listening.release()
        else:
            with self._woken:
                self._woken.wait_for(lambda: self._generation != seen, max(0.0, timeout))
        with self._woken:
            return self._generation != seen

    def _listen(self, queues: Sequence[str], timeout: float) -> None:
        """Block in beanstalkd until an entry is ready (then give it back and wake every
        waiter) or the timeout passes. A broken connection is dropped, made again next time."""
        seconds = min(MAX_BLOCK_SECONDS, max(1, math.ceil(timeout)))
        try:
            client = self._connected(queues)
            job = client.reserve(timeout=seconds)
        except greenstalk.TimedOutError:
            return
        except greenstalk.DeadlineSoonError:  # a job this connection holds: none, by design.
            return
        except (OSError, greenstalk.Error, AssertionError):  # gone, or shut down by a stop.
            self._drop()
            return
        self._give_back(client, job)
        self._notify()

    def _give_back(self, client: greenstalk.Client[str], job: greenstalk.Job[str]) -> None:
        try:
            priority = int(client.stats_job(job)["pri"])
            client.release(job, priority=priority, delay=0)
        except (OSError, greenstalk.Error, AssertionError):
            self._drop()  # the connection closing gives the entry back all the same.

    def _connected(self, queues: Sequence[str]) -> greenstalk.Client[str]:
        tubes = tuple(self._tube_of(queue) for queue in queues)
        if self._client is None:
            self._client = greenstalk.Client(
                self._address, encoding="utf-8", watch=list(tubes) or "default"
            )
            self._client._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._watching = tubes
        elif tubes != self._watching:
            for tube in tubes:
                self._client.watch(tube)
            for tube in set(self._watching) - set(tubes):
                self._client.ignore(tube)
            self._watching = tubes
        return self._client

    def _notify(self) -> None:
        with self._woken:
            self._generation += 1
            self._woken.notify_all()

    def _drop(self) -> None:
        client, self._client, self._watching = self._client, None, ()
        if client is not None:
            with contextlib.suppress(OSError):
                client.close()

    def interrupt(self) -> None:
        self._notify()
        client = self._client
        if client is not None and self._listening.locked():  # its reserve returns at once.
            with contextlib.suppress(OSError):
                client._sock.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self._closed = True
        self.interrupt()
        self._drop()
