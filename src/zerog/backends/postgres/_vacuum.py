"""Vacuuming and analyzing the jobs table from the workers, when the server's autovacuum does
not keep up (or is off, as on many test and development servers): no bloat in a long run
(issue 16 #5).

A claim walks the partial index of ready jobs from its head (lowest priority, oldest seq).
Each job claimed leaves a dead row version there, and its index entry, until VACUUM removes
them; without a VACUUM, every later claim steps over all of them. Worse, the planner's
statistics go stale: a table analyzed when it held a few jobs (or never) is planned as tiny,
and the claim reads and sorts every ready job (measured: 250 ms a claim beside 100,000 ready
jobs, 0.07 ms once analyzed). With autovacuum off, 375 claims/s in a run's first minute fell
to 112/s in its fourth.

So each worker process looks, every :data:`CHECK_SECONDS` at most (from its heartbeat's
rescue call), at the table's counts of dead row versions and of rows changed since the last
ANALYZE. Past :data:`DEAD_ROWS` dead (and a twentieth of the live ones), it runs ``VACUUM``
on ``jobs`` and ``stats`` (the daily statistics row is updated by every settlement); past a
tenth of the rows changed, ``ANALYZE`` on ``jobs``. One process at a time does (a session
advisory lock, tried, never waited on), in a thread and connection of its own, so heartbeats
are not held up. With autovacuum on and keeping up, the counts stay low and this does
nothing. A role that does not own the tables gets a warning from PostgreSQL, which skips
them: no harm.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import psycopg

from zerog.errors import BackendUnavailable

log = logging.getLogger(__name__)

CHECK_SECONDS = 5.0
DEAD_ROWS = 5000  # VACUUM past this many dead row versions, and a twentieth of the live ones.
ANALYZE_ROWS = 1000  # ANALYZE past this many rows changed, and a tenth of the live ones.

_PROBE = """
SELECT pg_stat_get_dead_tuples(t.oid), pg_stat_get_live_tuples(t.oid),
       pg_stat_get_mod_since_analyze(t.oid),
       pg_try_advisory_lock(hashtext(%(jobs)s || '.vacuum'))
FROM (SELECT to_regclass(%(jobs)s) AS oid) AS t
"""


class Vacuum:
    """One process's vacuuming of one schema's tables (see the module's doc)."""

    def __init__(self, connect: Callable[[], psycopg.Connection[Any]], schema: str) -> None:
        self._connect = connect
        self._schema = schema
        self._next_check = 0.0
        self._running = threading.Lock()
        self.count = 0  # VACUUMs run by this process (diagnostic, tests).

    def maybe(self) -> None:
        """Start a check (and a VACUUM if due) in a thread, unless one ran lately or runs."""
        now = time.monotonic()
        if now < self._next_check or not self._running.acquire(blocking=False):
            return
        self._next_check = now + CHECK_SECONDS
        threading.Thread(target=self._run, name="zerog-vacuum", daemon=True).start()

    def _run(self) -> None:
        try:
            with contextlib.closing(self._connect()) as conn:
                self._check_and_vacuum(conn)
        except (psycopg.Error, OSError, BackendUnavailable) as exc:  # tried again later.
            log.debug("vacuum of schema %s skipped: %s", self._schema, exc)
        except Exception:  # a maintenance thread must not die silently.
            log.exception("vacuum of schema %s failed", self._schema)
        finally:
            self._running.release()

    def _check_and_vacuum(self, conn: psycopg.Connection[Any]) -> None:
        jobs = f'"{self._schema}".jobs'
        row = conn.execute(_PROBE, {"jobs": jobs}).fetchone()
        if row is None or not row[3]:
            return  # another process vacuums now.
        dead, live, changed = (int(n or 0) for n in row[:3])
        try:
            stale = changed >= max(ANALYZE_ROWS, live // 10)
            if dead >= max(DEAD_ROWS, live // 20):
                analyze = "(ANALYZE) " if stale else ""
                conn.execute(f'VACUUM {analyze}{jobs}, "{self._schema}".stats')
                self.count += 1
            elif stale:
                conn.execute(f"ANALYZE {jobs}")
                self.count += 1
        finally:
            conn.execute("SELECT pg_advisory_unlock(hashtext(%s || '.vacuum'))", (jobs,))
