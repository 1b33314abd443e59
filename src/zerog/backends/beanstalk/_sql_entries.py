"""The SQL record store's bookkeeping of tube entries: which entry is each job's own, and
giving a job that became ready a new one inside the step's transaction.

The statements are the beanstalk package's own, one folder per SQL dialect with the same names
(``sql/sqlite/queries.sql``, ``sql/postgres/queries.sql``); they read the job store's tables
and write only the ``beanstalk_*`` ones (each dialect's ``schema.sql``). As the job steps take
the dialect's statements from the connection (``conn.q``), these steps take theirs from
:func:`bq`, which looks them up by the name of the connection's dialect (``conn.q.dialect``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, fields, replace
from importlib import resources
from typing import Any, NamedTuple

from zerog.backends.beanstalk._records import Enter, EntryInfo, Rank
from zerog.backends.beanstalk._wire import whole_seconds
from zerog.backends.sql.statements import Conn, parse_named
from zerog.backends.sql.txn import Txn
from zerog.model import State

READY = (State.WAITING.value, State.SCHEDULED.value)
DEPENDS = State.DEPENDS.value
DIALECTS = ("sqlite", "postgres")  # the folders of sql/, one per SQL dialect.


@dataclass(frozen=True)
class BeanstalkQueries:
    """The named statements of a dialect's ``sql/<dialect>/queries.sql``."""

    claim_row: str
    entry_row: str
    entry_row_by_seq: str
    settled_row: str
    ready_after: str
    set_entry: str
    next_due: str
    due: str
    forget_delay: str
    get_meta: str
    set_meta: str
    park: str
    unpark_job: str
    any_parked: str
    parked: str
    recurrences_due: str
    take_gone: str


def read_sql(dialect: str, filename: str) -> str:
    """One of the beanstalk package's SQL files for ``dialect``."""
    folder = resources.files(__package__).joinpath("sql", dialect)
    return folder.joinpath(filename).read_text(encoding="utf-8")


def _load(dialect: str) -> BeanstalkQueries:
    named = parse_named(read_sql(dialect, "queries.sql"))
    expected = {f.name for f in fields(BeanstalkQueries)}
    if set(named) != expected:
        raise RuntimeError(
            f"beanstalk sql/{dialect}/queries.sql names {sorted(named)}, not {sorted(expected)}"
        )
    return BeanstalkQueries(**named)


SCHEMAS = {dialect: read_sql(dialect, "schema.sql") for dialect in DIALECTS}
"""Each dialect's ``beanstalk_*`` tables (every statement idempotent)."""

QUERIES = {dialect: _load(dialect) for dialect in DIALECTS}
"""Each dialect's statements, by its name. Read from files only: no driver is imported (a
SQLite store needs no psycopg)."""


def bq(conn: Conn) -> BeanstalkQueries:
    """The beanstalk statements of the dialect ``conn`` belongs to, told by the job
    statements it carries (``conn.q.dialect``)."""
    return QUERIES[conn.q.dialect]


HOLD_SECONDS = float(2**31)
"""The delay of a held-back entry: a job in ``depends`` has one in its tube from the start,
delayed for good, which is kicked when the job is released, so that the job keeps its place
(beanstalkd orders by priority, then entry id). Should one ever come out (68 years, or a kick
by hand), its claim finds the job in depends and deletes it; the release then puts another."""


class Entered(NamedTuple):
    """What :func:`enter_new` did: the job's entry before, and after (None: it is neither
    ready nor in depends, so it got none), and when it is due when its new entry is
    delayed."""

    old: int | None
    bid: int | None
    due_at: float | None


def enter_new(txn: Txn, seq: int, enter: Enter) -> Entered:
    """Give job ``seq`` a new entry in its queue's tube: delayed until it is due if it is
    ready, held back if it is in depends. Its old entry, if any, turns stale (the caller
    deletes it after the commit, or its delivery does)."""
    row = txn.conn.execute(bq(txn.conn).entry_row_by_seq, (seq,)).fetchone()
    info, state, ready_at = info_of(row), row[2], row[6]
    if state in READY:
        delay, due_at = ready_at - txn.now, ready_at
    elif state == DEPENDS:
        delay, due_at = HOLD_SECONDS, None
    else:
        return Entered(info.bid, None, None)
    bid = enter(new_entry(row, delay))
    set_entry(txn.conn, seq, bid, due_at, delay)
    return Entered(info.bid, bid, due_at if delay > 0 else None)


def enter_readied(txn: Txn, enter: Enter) -> tuple[list[int], list[Rank]]:
    """Entries for the jobs the step made ready besides its own (``txn.readied``: dependents
    released, an undepend, recurring jobs spawned), which are then forgotten: each one's
    held-back entry is kicked (it keeps its place) or, if it has none, a new one put.
    Returns the old entries that turned stale, and the rank of each job ready now."""
    stale, ranks = [], []
    for seq, _uuid in txn.readied:
        row = txn.conn.execute(bq(txn.conn).entry_row_by_seq, (seq,)).fetchone()
        if row[2] not in READY:
            continue
        info, ready_at = info_of(row), row[6]
        bid = enter(delayed_by(info, ready_at - txn.now))
        if bid is None:  # beanstalkd unreachable: its held-back entry is kicked later.
            bid = info.bid
        set_entry(txn.conn, seq, bid, ready_at, ready_at - txn.now)
        if info.bid is not None and bid != info.bid:
            stale.append(info.bid)
        if ready_at <= txn.now:
            ranks.append((info.queue, info.priority, seq))
    txn.readied.clear()
    return stale, ranks


def drop_entry(conn: Conn, seq: int) -> None:
    """The job has no deliverable entry now (it left its tube): any entry naming it is
    stale, and it gets a new one when it is ready again."""
    set_entry(conn, seq, None, None, 0.0)


def set_entry(conn: Conn, seq: int, bid: int | None, due_at: float | None, delay: float) -> None:
    """Record the job's entry; with a delay, when it is due and until when beanstalkd (which
    counts whole seconds from now) keeps it back."""
    delayed = delay > 0 and due_at is not None
    conn.execute(
        bq(conn).set_entry,
        {
            "job": seq,
            "bid": bid,
            "due_at": due_at if delayed else None,
            "delayed_until": time.time() + whole_seconds(delay) if delayed else None,
        },
    )


def info_of(row: tuple[Any, ...]) -> EntryInfo:
    """The entry info of an ``entry_row`` (seq, uuid, state, queue, priority, ttr, ready_at,
    bid)."""
    return EntryInfo(uuid=row[1], queue=row[3], priority=row[4], ttr_seconds=row[5], bid=row[7])


def new_entry(row: tuple[Any, ...], delay: float) -> EntryInfo:
    """What a new entry for the job of an ``entry_row`` takes: its own entry is not reused
    (bid None), and it is delayed by ``delay`` seconds (none when not positive)."""
    return EntryInfo(row[1], row[3], row[4], row[5], None, delay if delay > 0 else 0.0)


def delayed_by(info: EntryInfo, delay: float) -> EntryInfo:
    """``info`` with a delay (never negative)."""
    return replace(info, delay_seconds=max(0.0, delay))
