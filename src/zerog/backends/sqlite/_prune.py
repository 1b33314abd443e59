"""Retention: deleting finished jobs and statistics past the config's limits (Backend.prune).

Jobs are found through the ``jobs_finished`` index (complete, cancelled and expired jobs by
finish time), so a batch costs the same with a thousand stored jobs or a million: one walk of
the index to the count boundary, one range read, and a few set-based deletes.
"""

from __future__ import annotations

import json
import sqlite3

from zerog import stats
from zerog.backends.base import Retention
from zerog.backends.sqlite._rows import dumps
from zerog.backends.sqlite._sql import Q

DELETES = (
    # Side rows first: the tags are found through the jobs' own documents.
    Q.delete_tags_of,
    Q.delete_spawned_of,
    Q.delete_tracked_of,
    Q.delete_uniques_of,
    Q.delete_deps_of,
    Q.delete_deps_on,
    Q.delete_history_of,
    Q.delete_jobs,
)


def prune_step(conn: sqlite3.Connection, retention: Retention, limit: int, now: float) -> int:
    """Delete up to ``limit`` finished jobs past the retention, newest of them first (as the
    memory backend does), and old statistics; returns how many jobs went."""
    doomed = _doomed(conn, retention, max(0, limit), now)
    if doomed:
        seqs = json.dumps(doomed)
        for sql in DELETES:
            conn.execute(sql, (seqs,))
    _prune_stats(conn, retention, now)
    return len(doomed)


def _doomed(conn: sqlite3.Connection, retention: Retention, limit: int, now: float) -> list[int]:
    """The seqs of the finished jobs to delete: those that finished before the cutoff, and
    those past the newest ``jobs_count``; both are a prefix of the index, so the longer one
    is the answer."""
    cutoff = now - retention.jobs_seconds
    boundary = conn.execute(Q.finished_boundary, {"keep": retention.jobs_count}).fetchone()
    if boundary is not None and boundary[0] is not None and boundary[0] >= cutoff:
        params = {"finished_at": boundary[0], "seq": boundary[1], "limit": limit}
        rows = conn.execute(Q.doomed_by_count, params).fetchall()
    else:
        rows = conn.execute(Q.doomed_by_age, {"cutoff": cutoff, "limit": limit}).fetchall()
    return [row[0] for row in rows]


def _prune_stats(conn: sqlite3.Connection, retention: Retention, now: float) -> None:
    """Statistics older than ``stats_days`` go; older than ``histogram_days``, their
    histograms are emptied (written only when not empty already)."""
    today = stats.day_of(now)
    conn.execute(Q.drop_stats_before, (today - retention.stats_days * stats.DAY,))
    for queue, day, doc in conn.execute(
        Q.stats_before, (today - retention.histogram_days * stats.DAY,)
    ).fetchall():
        stored = json.loads(doc)
        stripped = stats.without_histograms(stored)
        if stripped != stored:
            conn.execute(Q.set_stats, (queue, day, dumps(stripped)))
