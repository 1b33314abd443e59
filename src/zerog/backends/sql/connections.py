"""One database connection per thread and process, shared by the SQL engines' ``Database``.

Connections are opened on a thread's first call and closed when the thread is found dead or
the database is closed. Two things are easy to get wrong, so they live here once:

- **fork()**: a child must never use its parent's connections (SQLite's locks and a libpq
  session belong to the parent). A child that finds them opens its own and keeps the parent's
  referenced, never used and never closed: closing one could drop the parent's SQLite locks or
  end its session on the shared socket.
- **close() under a call**: closing a connection while another thread is inside a call on it
  crashes the process in the driver's C code. A connection inside a call (see :meth:`enter`)
  is therefore closed by its own thread when the call ends; later calls are refused.
"""

from __future__ import annotations

import os
import threading
import weakref
from typing import Generic, TypeVar

from zerog.errors import BackendUnavailable

C = TypeVar("C")

_inherited: list[object] = []  # a parent's connections, kept so that none is ever closed.
_pools: weakref.WeakSet[ThreadConnections[object]] = weakref.WeakSet()


class ThreadConnections(Generic[C]):
    """This process's connections to one database, one per thread. Subclasses say how a
    connection is opened and closed, and what a closed database answers."""

    def __init__(self) -> None:
        self._local = threading.local()
        self._lock = threading.Lock()
        self._connections: list[tuple[threading.Thread, C]] = []
        self._busy: dict[C, int] = {}  # connections inside a call, and how deep.
        self._closed = False
        _pools.add(self)  # type: ignore[arg-type]

    def _connect(self) -> C:
        """A new connection (called without the lock held: it may wait on the network)."""
        raise NotImplementedError

    def _close_one(self, conn: C) -> None:
        """Close one connection, quietly."""
        raise NotImplementedError

    def _closed_error(self) -> BackendUnavailable:
        """What a call on the closed database raises."""
        raise NotImplementedError

    def connection(self) -> C:
        """This thread's connection in this process, opened on first use."""
        local = self._local
        conn: C | None = getattr(local, "conn", None)
        if conn is not None and local.pid == os.getpid() and not self._closed:
            return conn
        return self._open_for_thread()

    def _open_for_thread(self) -> C:
        with self._lock:
            if self._closed:
                raise self._closed_error()
            self._close_dead_threads()
        conn = self._connect()
        with self._lock:
            self._connections.append((threading.current_thread(), conn))
        self._local.conn, self._local.pid = conn, os.getpid()
        return conn

    def _close_dead_threads(self) -> None:
        """Close the connections of threads that ended (caller holds the lock)."""
        alive = []
        for thread, conn in self._connections:
            if thread.is_alive():
                alive.append((thread, conn))
            else:
                self._close_one(conn)
        self._connections = alive

    def close_connections(self) -> None:
        """Close every connection of this process, other threads' too, but those inside a
        call, which their threads close as the call ends; the database is closed for good."""
        with self._lock:
            self._closed = True
            for _, conn in self._connections:
                if conn not in self._busy:
                    self._close_one(conn)
            self._connections = []

    def forget(self, conn: C) -> None:
        """Close a connection that broke; this thread's next call opens another."""
        self._close_one(conn)
        with self._lock:
            self._connections = [(t, c) for t, c in self._connections if c is not conn]
        if getattr(self._local, "conn", None) is conn:
            self._local.conn = None

    def enter(self) -> C:
        """This thread's connection, marked inside a call until :meth:`leave`."""
        conn = self.connection()
        with self._lock:
            if self._closed:
                raise self._closed_error()
            self._busy[conn] = self._busy.get(conn, 0) + 1
        return conn

    def leave(self, conn: C) -> None:
        """The call on ``conn`` ended; close it now if the database was closed meanwhile."""
        with self._lock:
            depth = self._busy.pop(conn) - 1
            if depth:
                self._busy[conn] = depth
                return
            if not self._closed:
                return
        self._close_one(conn)  # close_connections() left it to this thread.

    def _after_fork_in_child(self) -> None:
        self._lock = threading.Lock()  # the parent's lock may have been held by another thread.
        _inherited.extend(conn for _, conn in self._connections)
        self._connections = []
        self._busy = {}


def _after_fork_in_child() -> None:
    for pool in list(_pools):
        pool._after_fork_in_child()


os.register_at_fork(after_in_child=_after_fork_in_child)
