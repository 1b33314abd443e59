"""The hook a SQL dialect provides: its :class:`Database`, the connections and transactions
that the shared engine and the beanstalk record store run their statements through.

A dialect (:mod:`zerog.backends.sqlite`, :mod:`zerog.backends.postgres`) is thin, as
procrastinate's connectors are. It brings:

- a :class:`Database` (this protocol): connections, read and write transactions, scripts;
- its statements: a :class:`~.statements.Queries` of the engine's names over its own SQL
  files, which each of its connections carries as ``conn.q``;
- a :class:`~.backend.SqlBackend` subclass that opens it and says how a write transaction gets
  its time (:meth:`~.backend.SqlBackend.transact`).

The job logic is the engine's alone (:mod:`.steps`). Code that keeps SQL of its own for each
dialect (the beanstalk record store's ``sql/<dialect>/`` files) chooses it by name
(:attr:`Database.dialect`, or ``conn.q.dialect`` inside a transaction), never by class.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from zerog.backends.sql.statements import Conn

T = TypeVar("T")


class Database(Protocol):
    """A dialect's connections and transactions, as :class:`~.backend.SqlBackend` and the
    beanstalk record store use them. Bodies may run more than once (a busy or lost connection
    retries them): no effects outside the database."""

    @property
    def dialect(self) -> str:
        """The dialect's name (``sqlite``, ``postgres``), as its statements say it
        (``Queries.dialect``)."""

    def connection(self) -> Conn:
        """This thread's connection in this process."""

    def write(self, body: Callable[[Any], T]) -> T:
        """Run ``body`` in a write transaction (one writer at a time)."""

    def read(self, body: Callable[[Any], T], snapshot: bool = False) -> T:
        """Run ``body`` as reads; with ``snapshot`` all of them see one state."""

    def run_script(self, script: str) -> None:
        """Run a script of several statements in one write transaction, retried as a write
        is (every statement should be idempotent: processes opening a fresh store at once may
        each run it, one after the other)."""

    def close(self) -> None:
        """Close the connections; unusable afterwards."""
