"""Rate limits on the beanstalk backend: a delivered entry whose job's rate window is full.

beanstalkd knows nothing of rates; the store decides at the claim, with the same log of
starts as the SQL backends (:mod:`zerog.backends.sql.share`). A job one of whose rate limits
(its queue's, ``queue:<queue>``, or a throttle's) has had ``maximum`` starts in the last
``per`` seconds is given back *delayed* until the window frees: beanstalkd readies it then
by itself (its entry keeps its priority and id, so its place in the tube), and no worker
reserves it again and again in between. beanstalkd counts delays in whole seconds, so the
job waits up to a second longer than the window asks.
"""

from __future__ import annotations

from collections.abc import Sequence

from zerog import flow
from zerog.backends.beanstalk._records import Claim, Verdict
from zerog.backends.beanstalk._sql_entries import set_entry
from zerog.backends.sql.share import Rates
from zerog.backends.sql.txn import Txn

RECHECK_SECONDS = 5.0  # a job under a rate limit of 0 is looked at again this often.


def rate_wait(txn: Txn, seq: int, bid: int, queue: str, throttles: Sequence[str]) -> Claim | None:
    """The claim of a job whose rate limits are full (its entry delayed until the last of
    them frees), or None: it may start, and its start is logged."""
    txn.conn.execute(txn.conn.q.lock_key, ("limits",))  # one claim at a time reads the log.
    rates = Rates(txn.conn, txn.now)
    if not rates.limits:
        return None
    names = [flow.QUEUE_LIMIT + queue, *throttles]
    full = [name for name in set(names) if rates.full(name)]
    if not full:
        rates.started(names)
        return None
    frees = [flow.rate_free_at(rates.starts(n), *rates.limits[n]) for n in full]
    free = None if None in frees else max(at for at in frees if at is not None)
    delay = max(free - txn.now, 0.001) if free is not None else RECHECK_SECONDS
    set_entry(txn.conn, seq, bid, txn.now + delay, delay)
    return Claim(Verdict.NOT_DUE, delay_seconds=delay)
