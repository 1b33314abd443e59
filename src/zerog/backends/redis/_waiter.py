"""How an idle worker waits on Redis: a blocking pop on its queues' wake lists.

Every script that makes a job ready in a queue (a put, a retry, a dependency met, a rescue,
a queue restarted) pushes a token on the queue's wake list, ``{prefix}:wake:<queue>``
(capped: see ``lua/lib/core.lua``). An idle thread blocks in BLPOP on the wake lists of its
queues and on its process's own list, and is back the moment a token comes: the server
answers a blocked client as soon as the push is made, so a job put by another process starts
within a round trip or two. :meth:`RedisWaiter.interrupt` (a put in this process, a worker
stopping) pushes one token per waiting thread on the process's own list.

Redis times blocking pops out only every 1/hz seconds (100 ms by default), far too coarse
for a worker that waits 10 ms after a job, or until a scheduled job is due. So the waiting
thread keeps the time itself: it waits for the reply up to its own deadline, and then ends
the pop with CLIENT UNBLOCK from another connection (a token that came meanwhile is still
read: nothing is lost). The server's own timeout is only a backstop.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Sequence
from typing import Any

import redis
import redis.exceptions as rx

from zerog.backends.contract import Waiter

OWN_LIST_SECONDS = 600  # the process's own list vanishes this long after its last token.
SERVER_SLACK_SECONDS = 2.0  # the server ends a pop this long after the waiter should have.
READ_GRACE_SECONDS = 5.0  # a pop unanswered this long after being ended: the server is gone.
_FAILED = (rx.ConnectionError, rx.TimeoutError, OSError)


class RedisWaiter(Waiter):
    """Waits on the wake lists of a store, one connection per waiting thread."""

    hears_others = True

    def __init__(self, client: redis.Redis, root: str) -> None:
        self._client = client
        self._pool = client.connection_pool
        self._root = root
        self._own = f"{root}:wake:process:{secrets.token_hex(8)}"
        self._condition = threading.Condition()
        self._generation = 0  # counts interrupts, so that a wait knows it was woken.
        self._blocked = 0  # threads in BLPOP now: each needs a token of its own.
        self._closed = False
        self._ids: dict[int, tuple[object, int]] = {}  # connection -> (its socket, client id)

    def wait(self, queues: Sequence[str], timeout: float) -> bool:
        with self._condition:
            seen = self._generation
        if timeout > 0.0 and queues and not self._closed:
            return self._pop(queues, timeout, seen)
        with self._condition:
            self._condition.wait_for(lambda: self._generation != seen, max(0.0, timeout))
            return self._generation != seen

    def _pop(self, queues: Sequence[str], timeout: float, seen: int) -> bool:
        """BLPOP on the queues' wake lists and the process's own, until a token comes or
        ``timeout``; True when a token came. A failing server counts as a wake-up: the
        claim that follows reports it."""
        keys = [f"{self._root}:wake:{q}" for q in queues] + [self._own]
        conn = self._pool.get_connection()
        try:
            client_id = self._client_id(conn)
            with self._condition:
                if self._generation != seen:  # interrupted before this thread was counted.
                    return True
                self._blocked += 1
            try:
                conn.send_command("BLPOP", *keys, f"{timeout + SERVER_SLACK_SECONDS:.3f}")  # type: ignore[no-untyped-call]
                if not conn.can_read(timeout):
                    self._client.client_unblock(client_id)
                    if not conn.can_read(READ_GRACE_SECONDS):
                        raise rx.TimeoutError("the server did not end a blocking pop")
                return conn.read_response() is not None
            finally:
                with self._condition:
                    self._blocked -= 1
        except _FAILED:
            conn.disconnect()  # type: ignore[no-untyped-call]
            time.sleep(min(timeout, 0.5))  # do not spin on a server that is down.
            return True
        finally:
            self._pool.release(conn)

    def _client_id(self, conn: Any) -> int:
        """The server's id of a connection (CLIENT ID), asked once per socket."""
        if conn._sock is None:
            conn.connect()
        known = self._ids.get(id(conn))
        if known is not None and known[0] is conn._sock:
            return known[1]
        conn.send_command("CLIENT", "ID")
        client_id = int(conn.read_response())
        self._ids[id(conn)] = (conn._sock, client_id)
        return client_id

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
