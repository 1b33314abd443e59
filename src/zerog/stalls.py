"""Stalled jobs: running, their lease kept alive by heartbeats, yet silent for too long.

A long job that hangs (a deadlock, a network read with no timeout, a loop that never ends)
does not lose its lease: the worker's heartbeat thread keeps renewing it, so nothing expires
and nothing is retried. What gives it away is that the job stops reporting. Every progress
report, log line or checkpoint a running job writes moves its ``updated_at``; a heartbeat
does not. A running job whose last report is older than its threshold is *stalled*.

The threshold, first found wins: the job's own ``stall_seconds`` (``BaseJob.STALL_SECONDS``
or ``enqueue(stall_seconds=...)``), the store's config ``<queue>-stall-seconds``, the config
``stall-seconds``, else :data:`zerog.config.DEFAULTS` (15 minutes). A stall is shown (the
record's ``stalled`` and ``quiet_seconds``; ``zerog job``, ``zerog jobs --stalled``,
``GET /api/stalled``), counted (``zerog_jobs_stalled`` in ``/metrics``, to alert on) and
logged once by the worker that runs the job (event ``job.stalled``). Nothing is done to the
job: only its code or an operator knows whether it is stuck or merely quiet.
"""

from __future__ import annotations

from typing import Any

from zerog import config as configuration
from zerog.model import Record, State


def threshold(record: Record, stored_config: dict[str, Any]) -> float:
    """Seconds of silence after which this job counts as stalled."""
    own = record.get("stall_seconds")
    if own is not None:
        return float(own)
    return configuration.stall_for(stored_config, str(record.get("queue", "")))


def quiet_seconds(record: Record, now: float) -> float | None:
    """Seconds since a running job last reported anything; None unless it is running."""
    if record.get("state") != State.RUNNING.value:
        return None
    last = record.get("updated_at") or record.get("started_at") or now
    return max(0.0, now - float(last))


def annotate(record: Record, now: float, stored_config: dict[str, Any]) -> Record:
    """Add ``quiet_seconds`` and ``stalled`` to a record that is being shown."""
    quiet = quiet_seconds(record, now)
    lease = record.get("lease_expires_at")
    alive = lease is None or float(lease) > now  # an expired lease is a lost worker instead.
    record["quiet_seconds"] = quiet
    record["stalled"] = quiet is not None and alive and quiet >= threshold(record, stored_config)
    return record
