"""Rate limits and fair share on the SQL engine: what a claim checks and logs besides the
concurrency limits.

The statements are this module's own, one file per dialect (``share_sql/<dialect>.sql``),
picked by the connection's dialect as :mod:`.audit` picks its own. The tables
(``rate_limits``, ``rate_starts``, ``fair_keys``) are the schema's (SQLite version 4,
PostgreSQL version 3): the claim's fast path (``next_ready``) looks for a row in them, so
that a store with no rate limit and a queue without fair keys claim as before.

Rate limits are a sliding log: every start of a job counting against a rate-limited name
adds a row ``(name, at)`` (``at``: the transaction's time, the store's clock), and a job may
start while fewer than ``maximum`` rows of each of its names are later than ``now - per``.
Claims under limits run one at a time (the ``limits`` lock of :class:`.steps.reserve.Limits`),
so no two claims count the same log at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib import resources

from zerog import flow
from zerog.backends.sql.statements import Conn, parse_named

PRUNE_MARGIN = 60.0  # starts are kept this long past their window (a slower clock's claim).


def _load(dialect: str) -> dict[str, str]:
    folder = resources.files(__package__).joinpath("share_sql")
    return parse_named(folder.joinpath(f"{dialect}.sql").read_text(encoding="utf-8"))


STATEMENTS = {dialect: _load(dialect) for dialect in ("sqlite", "postgres")}


def sq(conn: Conn) -> dict[str, str]:
    """This module's statements for the dialect of ``conn``."""
    return STATEMENTS[conn.q.dialect]


def rate_limits(conn: Conn) -> dict[str, tuple[int, float]]:
    """The rate limits set, by name."""
    rows = conn.execute(sq(conn)["rate_limits"]).fetchall()
    return {name: (int(maximum), float(per)) for name, maximum, per in rows}


def set_rate_limit(conn: Conn, name: str, maximum: int | None, per: float) -> None:
    """Set or (None) remove a rate limit; its log goes with it."""
    if maximum is None:
        conn.execute(sq(conn)["unset_rate_limit"], (name,))
        conn.execute(sq(conn)["forget_starts"])
    else:
        conn.execute(sq(conn)["set_rate_limit"], (name, int(maximum), float(per)))


def register_fair_key(conn: Conn, queue: str, key: str | None) -> None:
    """A job of key ``key`` entered ``queue``: the queue is fair from now on (see
    :mod:`.steps.fair`)."""
    if key:
        conn.execute(sq(conn)["add_fair_key"], (queue, key))
    else:
        conn.execute(sq(conn)["add_keyless"], (queue, queue))


class Rates:
    """The rate limits set and the starts logged against them, read lazily per name."""

    def __init__(self, conn: Conn, now: float) -> None:
        self._conn, self.now = conn, now
        self.limits = rate_limits(conn)
        self._starts: dict[str, list[float]] = {}

    def starts(self, name: str) -> list[float]:
        """The starts of ``name`` that count at ``now`` (read once per claim)."""
        if name not in self._starts:
            per = self.limits[name][1]
            rows = self._conn.execute(sq(self._conn)["starts_of"], (name, self.now - per))
            self._starts[name] = [float(at) for (at,) in rows]
        return self._starts[name]

    def full(self, name: str) -> bool:
        """Whether rate limit ``name`` lets no job start now."""
        rate = self.limits.get(name)
        return rate is not None and not flow.rate_room(self.starts(name), *rate, self.now)

    def may_start(self, names: Sequence[str]) -> bool:
        return not any(self.full(name) for name in names)

    def started(self, names: Sequence[str]) -> None:
        """Log a start against each of ``names`` that is rate-limited; prune its old starts."""
        q = sq(self._conn)
        for name in set(names):
            rate = self.limits.get(name)
            if rate is None:
                continue
            self._conn.execute(q["add_start"], (name, self.now))
            self._conn.execute(q["prune_starts"], (name, self.now - rate[1] - PRUNE_MARGIN))
            self.starts(name).append(self.now)

    def free_at(self) -> float | None:
        """When the first full rate window frees (idle workers wake then), None if none is
        full."""
        frees = [
            flow.rate_free_at(self.starts(name), maximum, per)
            for name, (maximum, per) in self.limits.items()
            if self.full(name)
        ]
        found = [at for at in frees if at is not None]
        return min(found) if found else None
