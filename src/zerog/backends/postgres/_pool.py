"""A shared pool of connections (psycopg_pool), for processes with many short calls from many
threads: the HTTP server (``zerog serve`` on a ``postgresql://`` URL asks for one) and any
process whose URL says ``pool=N``.

Without a pool each thread keeps a connection of its own for its life (see
:mod:`zerog.backends.sql.connections`): right for a worker, whose few threads call all the
time, costly for a server whose request threads come and go and mostly idle. With one, a call
borrows a connection for the call only (nested calls on one thread share it), so N
connections serve any number of threads; a connection that broke is closed and the pool
opens another. The pool is not carried over a fork (its threads do not survive one).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar

import psycopg

from zerog.errors import BackendUnavailable

C = TypeVar("C")

POOL_WAIT_SECONDS = 30.0  # a call waits this long for a free connection, then fails.


class Pool(Generic[C]):
    """Connections borrowed per call from a ``psycopg_pool.ConnectionPool`` of at most
    ``size``; ``wrap`` makes the engine's connection of a raw one (done per borrow: cheap)."""

    def __init__(
        self,
        size: int,
        kwargs: dict[str, Any],
        configure: Callable[[psycopg.Connection[Any]], None],
        wrap: Callable[[psycopg.Connection[Any]], C],
        where: str,
    ) -> None:
        from psycopg_pool import ConnectionPool  # the extra's package, loaded only when asked.

        self.where = where
        self._wrap = wrap
        self._local = threading.local()
        self._pool: ConnectionPool[Any] = ConnectionPool(
            kwargs=kwargs,
            min_size=1,
            max_size=size,
            configure=configure,
            open=False,
            name=f"zerog {where}",
        )
        try:
            self._pool.open(wait=True, timeout=float(kwargs.get("connect_timeout", 10)))
        except Exception as exc:
            self._pool.close()
            raise BackendUnavailable(
                f"cannot open a pool of connections to {where}: {exc}"
            ) from exc

    def borrow(self) -> C:
        """This thread's borrowed connection (borrowed now if none), wrapped: pair each call
        with one of :meth:`give_back`."""
        held = getattr(self._local, "held", None)
        if held is not None:
            held[2] += 1
            return held[1]  # type: ignore[no-any-return]
        from psycopg_pool import PoolClosed, PoolTimeout

        try:
            raw = self._pool.getconn(timeout=POOL_WAIT_SECONDS)
        except (PoolTimeout, PoolClosed) as exc:
            raise BackendUnavailable(f"no connection to {self.where} free: {exc}") from exc
        wrapped = self._wrap(raw)
        self._local.held = [raw, wrapped, 1]
        return wrapped

    def give_back(self) -> None:
        """End one borrow; the outermost gives the connection back (a broken or closed one is
        dropped by the pool, which opens another)."""
        held = self._local.held
        held[2] -= 1
        if held[2]:
            return
        self._local.held = None
        self._pool.putconn(held[0])

    def close(self) -> None:
        """Close the pool and its connections (borrowed ones as they are given back)."""
        self._pool.close(timeout=5.0)
