"""How an idle worker waits on Redis: a blocking pop on its queues' wake lists.

Every script that makes a job ready in a queue (a put, a retry, a dependency met, a rescue,
a queue restarted) pushes a token on the queue's wake list, ``{prefix}:wake:<queue>``
(capped: see ``lua/lib/core.lua``). An idle thread blocks in BLPOP on the wake lists of its
queues and on its process's own list, and is back the moment a token comes: the server
answers a blocked client as soon as the push is made, so a job put by another process starts
within a round trip or two. :meth:`RedisWaiter.interrupt` (a put in this process, a worker
stopping) pushes one token per waiting thread on the process's own list.

Redis times blocking pops out only every 1/hz seconds (100 ms by default), so a short wait
(a scheduled job due soon) is left to a local timer: BLPOP blocks for the wait less a
margin, and the rest is slept on a condition that :meth:`interrupt` also wakes.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Sequence

import redis
import redis.exceptions as rx

from zerog.backends.contract import Waiter

TIMER_MARGIN_SECONDS = 0.15  # Redis's own timeouts are this coarse (hz 10), and a bit more.
OWN_LIST_SECONDS = 600  # the process's own list vanishes this long after its last token.
READ_GRACE_SECONDS = 5.0  # a blocking pop unanswered this long after its timeout: server gone.


class RedisWaiter(Waiter):
    """Waits on the wake lists of a store, one connection per waiting thread."""

    hears_others = True

    def __init__(self, client: redis.Redis, root: str) -> None:
        self._pool = client.connection_pool
        self._root = root
        self._own = f"{root}:wake:process:{secrets.token_hex(8)}"
        self._client = client
        self._condition = threading.Condition()
        self._generation = 0
        self._blocked = 0  # threads in BLPOP now: each needs a token of its own.
        self._closed = False

    def wait(self, queues: Sequence[str], timeout: float) -> bool:
        deadline = time.monotonic() + max(0.0, timeout)
        with self._condition:
            seen = self._generation
        blocking = timeout - TIMER_MARGIN_SECONDS
        if blocking > 0.0 and queues and not self._closed and self._pop(queues, blocking, seen):
            return True
        with self._condition:
            self._condition.wait_for(
                lambda: self._generation != seen, max(0.0, deadline - time.monotonic())
            )
            return self._generation != seen

    def _pop(self, queues: Sequence[str], timeout: float, seen: int) -> bool:
        """BLPOP on the queues' wake lists and the process's own; True when a token came.
        A failing server counts as a wake-up: the claim that follows reports it."""
        keys = [f"{self._root}:wake:{q}" for q in queues] + [self._own]
        conn = self._pool.get_connection()
        with self._condition:
            if self._generation != seen:  # interrupted before it could count this thread.
                self._pool.release(conn)
                return True
            self._blocked += 1
        try:
            conn.send_command("BLPOP", *keys, f"{timeout:.3f}")  # type: ignore[no-untyped-call]
            if not conn.can_read(timeout + READ_GRACE_SECONDS):
                conn.disconnect()  # type: ignore[no-untyped-call]
                return True
            return conn.read_response() is not None
        except (rx.ConnectionError, rx.TimeoutError, OSError):
            conn.disconnect()  # type: ignore[no-untyped-call]
            time.sleep(min(timeout, 0.5))  # do not spin on a server that is down.
            return True
        finally:
            with self._condition:
                self._blocked -= 1
            self._pool.release(conn)

    def interrupt(self) -> None:
        with self._condition:
            self._generation += 1
            blocked = self._blocked
            self._condition.notify_all()
        if blocked:
            self._push(blocked, OWN_LIST_SECONDS)

    def _push(self, tokens: int, keep_seconds: int) -> None:
        try:
            pipe = self._client.pipeline(transaction=False)
            if tokens:
                pipe.lpush(self._own, *(["1"] * tokens))
            pipe.expire(self._own, keep_seconds)
            pipe.execute()
        except rx.RedisError:
            pass  # the waiters time out instead: a wake-up is a hint.

    def close(self) -> None:
        self._closed = True
        with self._condition:
            self._generation += 1
            blocked = self._blocked
            self._condition.notify_all()
        self._push(blocked, 5)  # the process's list goes once its last waiters took theirs.
