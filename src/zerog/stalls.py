"""Stalled jobs: running, their lease kept alive by heartbeats, yet making no progress.

A long job that hangs (a deadlock, a network read with no timeout, a loop that never ends)
does not lose its lease: the worker's heartbeat thread keeps renewing it, so nothing expires
and nothing is retried. What gives it away is that its completeness stops moving, and a
job that logs a line every second while it stays at 10 % is as stuck as a silent one. A
running job is *stalled* when it has made no progress for its window: a run that reported a
completeness is judged by when that last moved (the store keeps the time in the record's
``samples``, the ETA's); a run that never reported one by its last report of any kind (its
``updated_at``: progress, log line, checkpoint; a heartbeat is none). Silence is the case
where nothing moves at all.

The window, first found wins: the job's own ``stall_seconds`` (``BaseJob.STALL_SECONDS``
or ``enqueue(stall_seconds=...)``), the store's config ``<queue>-stall-seconds``, the config
``stall-seconds``, else :data:`zerog.config.DEFAULTS` (15 minutes). A stall is shown (the
record's ``stalled`` and ``quiet_seconds``, the seconds since the job last progressed;
``zerog job``, ``zerog jobs --stalled``, ``GET /api/stalled``), counted
(``zerog_jobs_stalled`` in ``/metrics``, to alert on) and handled once by the worker that
runs the job (:mod:`zerog.worker.stall_policy`): it logs event ``job.stalled``, posts it to
the webhook if there is one, and applies the job's stall policy: ``alert`` (the default:
nothing more), ``cancel``, ``retry`` or ``pause``, by ``STALL_POLICY``,
``enqueue(stall_policy=...)``, config ``<queue>-stall-policy`` or ``stall-policy``.
"""

from __future__ import annotations

from typing import Any

from zerog import config as configuration
from zerog.model import Record, State


def threshold(record: Record, stored_config: dict[str, Any]) -> float:
    """Seconds without progress after which this job counts as stalled."""
    own = record.get("stall_seconds")
    if own is not None:
        return float(own)
    return configuration.stall_for(stored_config, str(record.get("queue", "")))


def policy(record: Record, stored_config: dict[str, Any]) -> str:
    """What is done to this job once stalled: its own policy, else its queue's, else the
    store's, else ``alert``."""
    own = record.get("stall_policy")
    if own is not None:
        return str(own)
    return configuration.stall_policy_for(stored_config, str(record.get("queue", "")))


def progressed_at(record: Record) -> float | None:
    """When a running job last progressed (store time): its completeness's last move in
    this run, else its last report of any kind; None unless it is running."""
    if record.get("state") != State.RUNNING.value:
        return None
    started = record.get("started_at")
    samples = record.get("samples") or []
    moved = float(samples[-1][0]) if samples else None
    if moved is not None and (started is None or moved >= float(started)):
        return moved
    last = record.get("updated_at") or started
    return None if last is None else float(last)


def quiet_seconds(record: Record, now: float) -> float | None:
    """Seconds since a running job last progressed; None unless it is running."""
    if record.get("state") != State.RUNNING.value:
        return None
    last = progressed_at(record)
    return max(0.0, now - (now if last is None else last))


def annotate(record: Record, now: float, stored_config: dict[str, Any]) -> Record:
    """Add ``quiet_seconds`` and ``stalled`` to a record that is being shown."""
    quiet = quiet_seconds(record, now)
    lease = record.get("lease_expires_at")
    alive = lease is None or float(lease) > now  # an expired lease is a lost worker instead.
    record["quiet_seconds"] = quiet
    record["stalled"] = quiet is not None and alive and quiet >= threshold(record, stored_config)
    return record
