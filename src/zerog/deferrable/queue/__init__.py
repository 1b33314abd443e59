"""deferrable's queues over zerog stores: :class:`Queue` (any store), and the in-memory and
Dockets ones under deferrable's names."""

from zerog.deferrable.queue.base import FUNCTION_KIND, Envelope, Queue

__all__ = ["FUNCTION_KIND", "Envelope", "Queue"]
