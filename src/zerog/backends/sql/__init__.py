"""The SQL engine that the SQL dialects share: the job logic once, for ``sqlite://``,
``postgresql://`` and the beanstalk backend's record store.

- :mod:`.backend`: :class:`SqlBackend`, the contract over a dialect's database, each method
  one transaction running the steps;
- :mod:`.steps`: the steps, one module per part of a job's life (put, reserve, settle and
  the other state changes, their effects, dependencies, alter, recurrences, prune), each run
  inside the caller's transaction, so the beanstalk record store runs the very same ones;
- :mod:`.txn` and :mod:`.rows`: a write transaction's context and the two writes every step
  makes; rows and records, JSON made once;
- :mod:`.statements`: the statements every dialect provides under one set of names, the
  columns of ``jobs``, the connection the steps run on;
- :mod:`.dialect`: the hook a dialect provides (its :class:`Database`);
- :mod:`.connections`: one connection per thread and process, safe across ``fork()``.

A dialect (:mod:`zerog.backends.sqlite`, :mod:`zerog.backends.postgres`) brings its
connections, its SQL files and how a transaction gets its time; nothing here imports one.
"""

from zerog.backends.sql.backend import SqlBackend
from zerog.backends.sql.dialect import Database

__all__ = ["Database", "SqlBackend"]
