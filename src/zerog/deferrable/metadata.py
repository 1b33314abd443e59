"""Context passed from producer to consumer beside each deferred call (deferrable's API).

Each producer/consumer keeps to its own ``NAMESPACE`` of ``item['metadata']``; what
``produce_metadata`` returns travels as tagged JSON text (UUIDs, dates, tuples and sets come
back as they were), as deferrable sent it pickled.
"""

from __future__ import annotations

from typing import Any

from zerog.deferrable import codec


class MetadataProducerConsumer:
    """Produce metadata on the producer (``produce_metadata``), receive it on the consumer
    (``consume_metadata``); each instance keeps to its own ``NAMESPACE``."""

    NAMESPACE: str | None = None

    def __init__(self) -> None:
        if self.NAMESPACE is None:
            raise ValueError("NAMESPACE must be provided")

    def produce_metadata(self) -> Any:
        """Called on the producer; what it returns travels with the item."""
        return None

    def consume_metadata(self, metadata: Any) -> None:
        """Called on the consumer with what ``produce_metadata`` returned."""

    def _apply_metadata_to_item(self, item: dict[str, Any]) -> None:
        value = codec.dumps(self.produce_metadata(), f"metadata of namespace {self.NAMESPACE!r}")
        item.setdefault("metadata", {})[self.NAMESPACE] = value

    def _consume_metadata_from_item(self, item: dict[str, Any]) -> None:
        self.consume_metadata(codec.loads(item.get("metadata", {}).get(self.NAMESPACE)))
