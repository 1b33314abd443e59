"""The job states, one vocabulary for Python, HTTP, CLI and dashboard."""

from __future__ import annotations

from enum import StrEnum


class State(StrEnum):
    """Where a job is in its life (beanstalkd's word in brackets)."""

    WAITING = "waiting"  # ready to be reserved (READY)
    SCHEDULED = "scheduled"  # due at a later time (DELAYED)
    DEPENDS = "depends"  # waiting for other jobs to complete
    RUNNING = "running"  # reserved under a lease (RESERVED)
    PAUSED = "paused"  # stopped by an operator, checkpoint kept
    COMPLETE = "complete"  # finished (deleted)
    FAILED = "failed"  # out of retries or finished with an error (BURIED)
    CANCELLED = "cancelled"  # cancelled by a user (deleted)
    EXPIRED = "expired"  # its TTL passed before it started (deleted)


FINAL_STATES = frozenset({State.COMPLETE, State.FAILED, State.CANCELLED, State.EXPIRED})
"""States a job leaves only by an operator's retry (failed) or never."""

QUEUED_STATES = frozenset({State.WAITING, State.SCHEDULED, State.DEPENDS, State.PAUSED})
"""States of a job that is stored but not running and not finished."""

ALL_STATES = tuple(State)
