"""One write transaction's context, and the two writes every step makes: a job's changed keys
and a history entry.

The steps (:mod:`.steps`) take a :class:`Txn` rather than a bare connection: it carries
the transaction's time and the list of jobs the step made ready besides its own (dependents
released, recurring jobs spawned), which the beanstalk backend reads to give those jobs tube
entries in the same transaction.

The history cap (``max-job-history``, :attr:`Backend.history_limit`) is not a step's concern:
the dialect keeps it. SQLite's backend installs it on a connection with :func:`cap_history` (a
TEMP trigger), so every history insert on that connection keeps it, at no cost in statements;
PostgreSQL's sets it as each write transaction begins.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from zerog.backends.sql.rows import Encoded, dumps
from zerog.backends.sql.statements import COLUMN_SET, Conn
from zerog.model import Record


class Txn:
    """A write transaction in progress: its connection, its time, and the (seq, uuid) of the
    jobs its steps made ready besides their own. A plain class: one is made per transaction,
    on the hot path."""

    __slots__ = ("conn", "defer", "now", "q", "readied")

    def __init__(self, conn: Conn, now: float) -> None:
        self.conn = conn
        self.q = conn.q  # the dialect's statements (see statements.Conn).
        self.defer = later(conn)  # runs a write whose result is not read.
        self.now = now
        self.readied: list[tuple[int, str]] = []

    def log(
        self,
        seq: int,
        event: str,
        state: str,
        worker: str | None = None,
        detail: str | None = None,
    ) -> None:
        """Append a history entry to job ``seq`` at the transaction's time (log_entry's
        statement, run here: this is on the hot path, twice per job)."""
        self.defer(self.q.add_history, (seq, self.now, event, state, worker, detail))


def later(conn: Conn) -> Callable[..., Any]:
    """How to run a write on ``conn`` whose result is not read: deferred to the next statement
    sent where the dialect's connection can (PostgreSQL's ``defer``: one round trip for
    several), else at once (SQLite, in process, has no round trips to save)."""
    defer: Callable[..., Any] | None = getattr(conn, "defer", None)
    return defer if defer is not None else conn.execute


def log_entry(
    conn: Conn,
    seq: int | None,
    at: float,
    event: str,
    state: str,
    worker: str | None = None,
    detail: str | None = None,
) -> None:
    """Append a history entry (the connection's history cap, if any, drops the oldest)."""
    later(conn)(conn.q.add_history, (seq, at, event, state, worker, detail))


def cap_history(conn: Conn, keep: int | None) -> None:
    """Keep at most ``keep`` history entries per job in what this connection writes from now
    on (None: all). Run it outside a transaction: a rollback would undo it."""
    conn.execute(conn.q.drop_history_cap)
    if keep is not None:
        conn.execute(conn.q.history_cap.format(keep=int(keep)))


def write(
    conn: Conn,
    seq: int,
    before: Record,
    after: Record,
    encoded: Encoded | None = None,
) -> None:
    """Store the keys of ``after`` that are new or changed since ``before``.

    The lifecycle functions replace values and never change them in place, so identity tells
    what changed. ``encoded`` holds JSON made before the transaction for some of the values.
    """
    columns: list[str] = []
    keys: list[str] = []
    values: list[Any] = []
    texts: list[str] = []
    for key, value in after.items():
        if key in before and before[key] is value:
            continue
        if key in COLUMN_SET:
            columns.append(key)
            values.append(value)
        else:
            keys.append(key)
            texts.append(encoded.get(value) if encoded else dumps(value))
    if columns or keys:
        later(conn)(conn.q.update_sql(tuple(columns), tuple(keys)), [*values, *texts, seq])
