"""Limits on the beanstalk backend: a delivered entry whose job may not run now, and the
parked entries that may run again.

beanstalkd knows nothing of limits; the store decides at the claim. A job whose queue's own
limit is full is given back at once and its queue skipped (its tube is not reserved from
again in that call). A job one of whose throttles is full is *parked*: its entry is buried
(it keeps its place, and no worker sees it again and again) and the store notes it in
``beanstalk_parked``. When a running job ends, or a limit changes, the parked jobs whose
limits have room now are kicked, in the order they would run. A kick lost to a crash is made
by the reconciler, which kicks the buried entry of any ready job it checks.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from zerog import flow
from zerog.backends.beanstalk._records import Rank, Verdict
from zerog.backends.beanstalk._sql_entries import READY, bq
from zerog.backends.sql.rows import loads_list
from zerog.backends.sql.statements import Conn
from zerog.backends.sql.steps.reserve import Limits
from zerog.backends.sql.txn import Txn

UNPARK_BATCH = 100  # parked jobs looked at per step that may have made room.


def refusal(txn: Txn, seq: int, queue: str, throttles: Sequence[str]) -> Verdict | None:
    """Why job ``seq`` may not start now (QUEUE_FULL, THROTTLED: it is parked), or None.
    Only called when some limit is set."""
    limits = Limits(txn.conn)
    if limits.full(flow.QUEUE_LIMIT + queue):
        return Verdict.QUEUE_FULL
    if not limits.may_run(throttles):
        txn.conn.execute(bq(txn.conn).park, (seq,))
        return Verdict.THROTTLED
    return None


def queue_full(conn: Conn, queue: str) -> bool:
    """Whether the queue's own limit is full."""
    return Limits(conn).full(flow.QUEUE_LIMIT + queue)


def unpark(txn: Txn, any_parked: bool = True) -> tuple[list[int], list[Rank]]:
    """The entries of the parked jobs that may run now, and their ranks, counting each one
    chosen as running (so a throttle with room for one gets one); jobs no longer ready are
    forgotten. ``any_parked`` False: the caller knows there is none."""
    if not (any_parked and txn.conn.execute(bq(txn.conn).any_parked).fetchone()[0]):
        return [], []
    room = Room(txn.conn)
    kick, ranks = [], []
    for seq, bid, state, queue, priority, throttles in txn.conn.execute(
        bq(txn.conn).parked, {"limit": UNPARK_BATCH}
    ).fetchall():
        if state not in READY or bid is None:
            txn.conn.execute(bq(txn.conn).unpark_job, (seq,))
        elif room.take(flow.limit_names({"queue": queue, "throttles": loads_list(throttles)})):
            kick.append(bid)
            ranks.append((queue, priority, seq))
    return kick, ranks


class Room:
    """How many more jobs each limit admits, as jobs are chosen to run."""

    def __init__(self, conn: Conn) -> None:
        self.maximums: dict[str, int] = dict(conn.execute(conn.q.limits).fetchall())
        self.used: Counter[str] = Counter()
        for queue, throttles in conn.execute(conn.q.running_throttles):
            job = {"queue": queue, "throttles": loads_list(throttles)}
            self.used.update(set(flow.limit_names(job)))

    def take(self, names: Sequence[str]) -> bool:
        """Whether a job counting against ``names`` may run; if so, count it."""
        unique = set(names)
        if any(n in self.maximums and self.used[n] >= self.maximums[n] for n in unique):
            return False
        self.used.update(unique)
        return True
