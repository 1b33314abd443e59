"""How an idle worker waits on PostgreSQL: LISTEN on the schema's channel, on a connection of
its own.

Every transaction that may make a job claimable sends ``NOTIFY "zerog.<schema>"`` without a
payload (triggers of schema version 2, ``sql/migrate_2.sql``); the server delivers it at
COMMIT to every session listening. Each process keeps one listening connection; one idle
thread waits on its socket (``select``) and wakes the others when a notification comes, as
the SQLite doorbell's listener does. A notification is a hint: the claim that follows decides.

Nothing depends on a notification arriving. A worker also wakes at its poll interval and when
the first scheduled job falls due; a lost listening connection (a server restart, a
``pg_terminate_backend``) counts as a wake-up, since notifications may have been missed, and
is opened again at the next wait (at most every :data:`RECONNECT_SECONDS`; until then the
waiter sleeps as a :class:`~zerog.backends.contract.LocalWaiter` would). Behind PgBouncer in
transaction mode LISTEN hears nothing: ``?listen=off`` makes workers poll instead, backing off
from a few milliseconds (see ``Worker``'s idle wait).

The listening connection is closed by the thread that uses it, never under its feet (closing a
libpq connection inside another thread's call crashes the process), and a forked child never
touches its parent's: it opens its own.
"""

from __future__ import annotations

import contextlib
import os
import select
import socket
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import psycopg

from zerog.backends.contract import Waiter
from zerog.errors import BackendError

RECONNECT_SECONDS = 0.5  # a failed (re)connection is tried again after this long at least.
MAX_DRAIN = 1000  # notifications read at most per wake-up (a burst is one wake-up).

_inherited: list[object] = []  # a parent's connections, kept so that none is ever closed.


def channel_of(schema: str) -> str:
    """The channel the schema's triggers notify (the SQL's ``left('zerog.' || schema, 63)``)."""
    return f"zerog.{schema}"[:63]


class ListenWaiter(Waiter):
    """One process's LISTEN connection to a schema's channel, and its idle threads: one
    thread waits on the connection's socket, the others for it to tell them."""

    hears_others = True

    def __init__(self, connect: Callable[[], psycopg.Connection[Any]], schema: str) -> None:
        self._connect = connect
        self._channel = channel_of(schema)
        self._conn: psycopg.Connection[Any] | None = None
        self._lost = False  # the connection was lost: wake once when it is back.
        self._next_try = 0.0  # monotonic time of the next (re)connection attempt.
        self._pid = os.getpid()
        self._bell_in, self._bell_out = socket.socketpair()  # interrupt() wakes the select.
        self._bell_out.setblocking(False)
        self._listening = threading.Lock()  # held by the thread waiting on the socket.
        self._woken = threading.Condition()
        self._generation = 0  # counts wake-ups, so that a waiter knows it was woken.
        self._closed = False

    def wait(self, queues: Sequence[str], timeout: float) -> bool:
        self._after_fork()
        with self._woken:
            seen = self._generation
        if not self._closed and self._listening.acquire(blocking=False):
            try:
                self._listen(max(0.0, timeout), seen)
            finally:
                if self._closed:
                    self._release()
                self._listening.release()
        else:
            with self._woken:
                self._woken.wait_for(lambda: self._generation != seen, max(0.0, timeout))
        with self._woken:
            return self._generation != seen

    def interrupt(self) -> None:
        self._after_fork()
        self._wake()
        with contextlib.suppress(OSError):  # wakes the thread in select too.
            self._bell_out.send(b"!")

    def close(self) -> None:
        self._closed = True
        self.interrupt()
        if self._listening.acquire(blocking=False):  # else the listening thread releases.
            try:
                self._release()
            finally:
                self._listening.release()

    # --- the listening thread --------------------------------------------------------------

    def _listen(self, timeout: float, seen: int) -> None:
        """Wait on the connection and the bell until ``timeout`` or a wake-up; wake every
        waiter on a notification or the connection lost (a ring woke them already)."""
        deadline = time.monotonic() + timeout
        while self._generation == seen and not self._closed:
            conn = self._connection()
            left = deadline - time.monotonic()
            if self._generation != seen or left <= 0:  # woken by a reconnection, or done.
                return
            sockets: list[Any] = [self._bell_in]
            if conn is not None:
                sockets.append(conn.fileno())
            else:  # the server is away: try again at the next attempt's time.
                left = min(left, max(0.01, self._next_try - time.monotonic()))
            try:
                ready, _, _ = select.select(sockets, [], [], left)
            except (OSError, ValueError):  # closed meanwhile.
                return
            if self._bell_in in ready:
                with contextlib.suppress(OSError):
                    self._bell_in.recv(4096)
            if conn is not None and len(ready) > (self._bell_in in ready) and self._drain(conn):
                self._wake()

    def _drain(self, conn: psycopg.Connection[Any]) -> bool:
        """Read what arrived; True when a notification came or the connection was lost."""
        pgconn = conn.pgconn
        try:
            pgconn.consume_input()
        except psycopg.Error:
            self._drop()
            return True
        if pgconn.status != psycopg.pq.ConnStatus.OK:
            self._drop()
            return True
        heard = False
        for _ in range(MAX_DRAIN):
            if pgconn.notifies() is None:
                break
            heard = True
        return heard

    def _connection(self) -> psycopg.Connection[Any] | None:
        """The listening connection, opened (and LISTENing) if need be; None while the
        server cannot be reached."""
        if self._conn is not None or time.monotonic() < self._next_try:
            return self._conn
        try:
            conn = self._connect()
        except BackendError:
            self._next_try = time.monotonic() + RECONNECT_SECONDS
            return None
        try:
            conn.execute(f'LISTEN "{self._channel}"')
        except psycopg.Error:
            conn.close()
            self._next_try = time.monotonic() + RECONNECT_SECONDS
            return None
        self._conn = conn
        if self._lost:  # notifications sent while it was down are gone: look once.
            self._lost = False
            self._wake()
        return conn

    def _after_fork(self) -> None:
        """In a forked child, leave the parent's connection and bell alone (referenced, never
        used, never closed) and make this process's own."""
        if self._pid == os.getpid():
            return
        _inherited.extend((self._conn, self._bell_in, self._bell_out))
        self._conn, self._pid = None, os.getpid()
        self._bell_in, self._bell_out = socket.socketpair()
        self._bell_out.setblocking(False)
        self._listening = threading.Lock()
        self._woken = threading.Condition()

    def _drop(self) -> None:
        """Forget a lost connection; the next wait opens another."""
        conn, self._conn = self._conn, None
        self._lost = True
        self._next_try = time.monotonic() + RECONNECT_SECONDS
        if conn is not None:
            with contextlib.suppress(psycopg.Error):
                conn.close()

    def _wake(self) -> None:
        with self._woken:
            self._generation += 1
            self._woken.notify_all()

    def _release(self) -> None:
        """Close the connection and the bell (by the thread that may use them)."""
        conn, self._conn = self._conn, None
        if conn is not None and self._pid == os.getpid():
            with contextlib.suppress(psycopg.Error):
                conn.close()
        self._bell_in.close()
        self._bell_out.close()
