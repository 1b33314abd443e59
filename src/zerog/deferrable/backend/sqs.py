"""deferrable's SQS backend: zerog has none, and says so.

zerog's stores keep each job's record (state, history, errors) beside its place in the queue;
SQS keeps only messages. Use :class:`~zerog.deferrable.backend.ZerogBackendFactory` with a
zerog URL (sqlite, postgresql, redis, beanstalk) instead.
"""

from __future__ import annotations

from typing import Any

from zerog.errors import NotSupported

MESSAGE = (
    "zerog has no SQS backend: deferrable's SQSBackendFactory is not supported. Use "
    "zerog.deferrable.backend.ZerogBackendFactory(url) with a zerog store (sqlite:///..., "
    "postgresql://..., redis://...) instead"
)


class SQSBackendFactory:
    """Refuses to be made: see the module docstring."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise NotSupported(MESSAGE)
