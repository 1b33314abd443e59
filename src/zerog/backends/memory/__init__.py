"""``memory://``: a complete backend in one process's memory, for tests and zerog.testing.

One lock makes every method one atomic step. Records are copied in and out as JSON, so a
caller can never change a stored record by accident, and what is not JSON fails as it would
on any other backend.
"""

from __future__ import annotations

from zerog.backends.memory.audit import MemoryAudit
from zerog.backends.memory.jobs import MemoryJobs
from zerog.backends.memory.messages import MemoryMessages
from zerog.backends.memory.roles import MemoryLimits, MemoryQueues, MemorySchedules, MemoryUpkeep


class MemoryBackend(
    MemoryJobs,
    MemoryQueues,
    MemorySchedules,
    MemoryLimits,
    MemoryUpkeep,
    MemoryMessages,
    MemoryAudit,
):
    """Every job in a dict; a heap per queue of (priority, seq, uuid) for claims. Each part
    of the class is a role of the contract (:mod:`zerog.backends.contract`)."""


__all__ = ["MemoryBackend"]
