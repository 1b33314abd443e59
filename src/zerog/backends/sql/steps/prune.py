"""Retention: deleting finished jobs and statistics past the config's limits (Backend.prune).

Jobs are found through the ``jobs_finished`` index (complete, cancelled and expired jobs by
finish time), so a batch costs the same with a thousand stored jobs or a million: one walk of
the index to the count boundary, one range read, and a few set-based deletes.
"""

from __future__ import annotations

import json

from zerog import stats
from zerog.backends.sql.rows import dumps
from zerog.backends.sql.statements import Conn
from zerog.model import Retention

DELETES = (
    # Side rows first: the tags are found through the jobs' own documents.
    "delete_tags_of",
    "delete_spawned_of",
    "delete_tracked_of",
    "delete_uniques_of",
    "delete_deps_of",
    "delete_deps_on",
    "delete_history_of",
    "delete_jobs",
)
"""The statements (of ``conn.q``) that delete a batch of jobs, in order."""


def prune_step(conn: Conn, retention: Retention, limit: int, now: float) -> int:
    """Delete up to ``limit`` finished jobs past the retention, newest of them first (as the
    memory backend does), and old statistics; returns how many jobs went."""
    doomed = _doomed(conn, retention, max(0, limit), now)
    if doomed:
        seqs = json.dumps(doomed)
        for name in DELETES:
            conn.execute(getattr(conn.q, name), (seqs,))
    _prune_stats(conn, retention, now)
    return len(doomed)


def _doomed(conn: Conn, retention: Retention, limit: int, now: float) -> list[int]:
    """The seqs of the finished jobs to delete: those that finished before the cutoff, and
    those past the newest ``jobs_count``; both are a prefix of the index, so the longer one
    is the answer."""
    cutoff = now - retention.jobs_seconds
    boundary = conn.execute(conn.q.finished_boundary, {"keep": retention.jobs_count}).fetchone()
    if boundary is not None and boundary[0] is not None and boundary[0] >= cutoff:
        params = {"finished_at": boundary[0], "seq": boundary[1], "limit": limit}
        rows = conn.execute(conn.q.doomed_by_count, params).fetchall()
    else:
        rows = conn.execute(conn.q.doomed_by_age, {"cutoff": cutoff, "limit": limit}).fetchall()
    return [row[0] for row in rows]


def _prune_stats(conn: Conn, retention: Retention, now: float) -> None:
    """Statistics older than ``stats_days`` go; older than ``histogram_days``, their
    histograms are emptied (written only when not empty already)."""
    today = stats.day_of(now)
    conn.execute(conn.q.drop_stats_before, (today - retention.stats_days * stats.DAY,))
    for queue, day, doc in conn.execute(
        conn.q.stats_before, (today - retention.histogram_days * stats.DAY,)
    ).fetchall():
        stored = json.loads(doc)
        stripped = stats.without_histograms(stored)
        if stripped != stored:
            conn.execute(conn.q.set_stats, (queue, day, dumps(stripped)))
