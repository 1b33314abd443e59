"""``Deferrable``: register module-level functions, call them ``.later()``, run them anywhere.

The producer side (``@d.deferrable``, ``fn.later(...)``) builds an item, deferrable's shape,
and pushes it to the group's queue. The consumer side is either ``d.run_once()`` (deferrable's
loop) or any ``zerog worker`` watching the queue: both decide an item's fate the same way
(:meth:`Deferrable.decide`): run it; drop it (``on_expire``) when its TTL passed; retry it
with exponential backoff (4 s, 6 s, 10 s, ...) when it raised one of its ``error_classes`` and
has attempts left; else send it to the error queue. Whatever the fate, the popped item is then
done with and ``on_complete`` follows, as in deferrable.
"""

from __future__ import annotations

import logging
import socket
import sys
import time
import traceback
import uuid as uuidlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from zerog.deferrable import calls
from zerog.deferrable import debounce as debouncing
from zerog.deferrable.backend.base import Backend
from zerog.deferrable.backoff import apply_exponential_backoff_delay, backoff_seconds
from zerog.deferrable.metadata import MetadataProducerConsumer
from zerog.deferrable.options import Options
from zerog.deferrable.pickling import build_later_item, unpickle_method_call
from zerog.deferrable.queue.base import Envelope, to_values
from zerog.deferrable.ttl import add_ttl_metadata_to_item, item_is_expired
from zerog.model import Progress
from zerog.record import error_entry

log = logging.getLogger(__name__)

DEFAULT_MAX_ATTEMPTS = 5  # deferrable's README: "Defaults to 5".
EVENTS = (
    "push", "pop", "empty", "complete", "expire", "retry", "error",
    "debounce_hit", "debounce_miss", "debounce_error",
)  # fmt: skip


@dataclass(frozen=True)
class Decision:
    """What became of one run of an item: ``done``, ``expired``, ``retry`` (after
    ``delay_seconds``) or ``error``, with what went wrong (deferrable's ``error`` fields)."""

    outcome: str
    delay_seconds: float = 0.0
    error: dict[str, Any] = field(default_factory=dict)

    def entry(self) -> dict[str, Any]:
        """The error as zerog stores it on the job (``{timeStamp, errorCode, msg}``)."""
        message = f"{self.error.get('error_type')}: {self.error.get('error_text')}"
        return error_entry(time.time(), None, message, self.error.get("traceback"))


def error_info(exc: BaseException, text: str) -> dict[str, Any]:
    """deferrable's ``error`` of an item: what was raised, where, when."""
    return {
        "error_type": type(exc).__name__, "error_text": str(exc), "traceback": text,
        "hostname": socket.gethostname(), "ts": time.time(), "id": str(uuidlib.uuid1()),
    }  # fmt: skip


class Deferrable:
    """Deferred, distributed execution of module-level functions through ``backend``."""

    def __init__(
        self,
        backend: Backend,
        redis_client: Any = None,
        default_error_classes: Iterable[type[BaseException]] | None = None,
        default_max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    ) -> None:
        self.backend = backend
        # Accepted as deferrable accepts it; debounce state lives in the store, in the same
        # step as the push (on this client's server with backend.RedisBackendFactory).
        self.redis_client = redis_client
        self.default_error_classes = default_error_classes
        self.default_max_attempts = default_max_attempts
        self._metadata_producer_consumers: list[MetadataProducerConsumer] = []
        self._event_consumers: list[Any] = []

    # --- producer ----------------------------------------------------------------------------

    def deferrable(self, *args: Any, **kwargs: Any) -> Any:
        """Decorator, bare (``@d.deferrable``) or with options (``@d.deferrable(...)``)."""
        if len(args) == 1 and callable(args[0]) and not kwargs:
            return self._deferrable(args[0])
        return lambda method: self._deferrable(method, *args, **kwargs)

    def _deferrable(self, method: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        options = Options(*args, **kwargs)
        if not options.has_callables():
            options.validate()

        def later(*call_args: Any, **call_kwargs: Any) -> str | None:
            return self._later(method, options, call_args, call_kwargs)

        method.later = later  # type: ignore[attr-defined]
        method.deferrable_instance = self  # type: ignore[attr-defined]
        return method

    def _later(
        self, method: Callable[..., Any], options: Options, args: tuple[Any, ...], kwargs: Any
    ) -> str | None:
        options = options.resolved()
        options.validate()
        item = self._item(build_later_item(method, *args, **kwargs), options)
        for producer_consumer in self._metadata_producer_consumers:
            producer_consumer._apply_metadata_to_item(item)
        if not options.debounce_seconds:
            uuid = self.backend.queue.push(item)
            self._emit("push", item)
            return uuid
        return self._push_debounced(item, options)

    def _item(self, item: dict[str, Any], options: Options) -> dict[str, Any]:
        now = time.time()
        classes = options.error_classes
        if classes is None:
            classes = self.default_error_classes
        attempts = options.max_attempts
        item.update({
            "group": self.backend.group,
            "error_classes": [calls.class_path(c) for c in (classes or ())],
            "attempts": 0,
            "max_attempts": self.default_max_attempts if attempts is None else attempts,
            "use_exponential_backoff": options.use_exponential_backoff,
            "first_push_time": now, "last_push_time": now,
            "original_delay_seconds": options.delay_seconds,
            "original_debounce_seconds": options.debounce_seconds,
            "original_debounce_always_delay": options.debounce_always_delay,
            "delay": options.delay_seconds,
        })  # fmt: skip
        if options.ttl_seconds:
            ttl = float(options.ttl_seconds)  # type: ignore[arg-type]
            add_ttl_metadata_to_item(item, ttl, self.backend.queue.store.clock())
        return item

    def _push_debounced(self, item: dict[str, Any], options: Options) -> str | None:
        key = debouncing.call_key(item["method"], item["args"], item["kwargs"])
        window = float(options.debounce_seconds)  # type: ignore[arg-type]
        debounce = debouncing.debounce_for(key, window, options.debounce_always_delay)
        placed = self.backend.queue.push_debounced(item, debounce)
        if placed.outcome == "skipped":
            self._emit("debounce_hit", item)
            return None
        self._emit("debounce_miss", item)
        self._emit("push", item)
        return placed.uuid

    # --- consumer ----------------------------------------------------------------------------

    def run_once(self) -> None:
        """Pop one item from the main queue and process it (nothing to do: ``on_empty``)."""
        envelope, item = self.backend.queue.pop()
        self.process(envelope, item)

    def process(self, envelope: Envelope | None, item: Any) -> None:
        """Run a popped item and settle it: complete, retry, or the error queue."""
        if envelope is None:
            self._emit("empty", item)
            return
        self._emit("pop", item)
        self.settle(envelope, item, self.decide(item))

    def decide(self, item: dict[str, Any]) -> Decision:
        """Run the item's function (unless its TTL passed) and decide what follows."""
        for producer_consumer in self._metadata_producer_consumers:
            producer_consumer._consume_metadata_from_item(item)
        if item_is_expired(item, self.backend.queue.store.clock()):
            log.warning("deferred call dropped, its TTL passed: %s", item.get("method"))
            return Decision("expired")
        try:
            method, args, kwargs = unpickle_method_call(item)
            method(*args, **kwargs)
        except Exception as exc:
            return self._failed(item, exc, traceback.format_exc())
        return Decision("done")

    def _failed(self, item: dict[str, Any], exc: Exception, text: str) -> Decision:
        retryable = calls.resolve_classes(item.get("error_classes") or [])
        attempts = int(item.get("attempts") or 0)
        if isinstance(exc, retryable) and attempts < int(item.get("max_attempts", 1)) - 1:
            delay = backoff_seconds(attempts + 1) if item.get("use_exponential_backoff") else 0
            return Decision("retry", delay, error_info(exc, text))
        return Decision("error", 0.0, error_info(exc, text))

    def settle(self, envelope: Envelope, item: dict[str, Any], decision: Decision) -> None:
        """Settle a popped item's job the way ``decision`` says, emitting the events."""
        store = self.backend.queue.store
        if decision.outcome == "retry":
            self.next_attempt(item)
            progress = Progress(values=to_values(item))
            store.retry(envelope.lease, float(item.get("delay") or 0), decision.entry(), progress)
            self._emit("retry", item)
        elif decision.outcome == "error":
            store.fail(envelope.lease, decision.entry())
            self.send_to_error_queue(item, decision.error)
        else:
            if decision.outcome == "expired":
                self._emit("expire", item)
            store.complete(envelope.lease)
        self._emit("complete", item)

    @staticmethod
    def next_attempt(item: dict[str, Any]) -> None:
        """Count a failed attempt on the item and set the delay before the next one."""
        item["attempts"] = int(item.get("attempts") or 0) + 1
        apply_exponential_backoff_delay(item)

    def _push_item_to_error_queue(self, item: dict[str, Any]) -> None:
        """Push the item to the error queue with the exception being handled (deferrable's:
        call it from an ``except`` block)."""
        exc = sys.exc_info()[1]
        if exc is None:
            raise RuntimeError("_push_item_to_error_queue must be called from an except block")
        self.send_to_error_queue(item, error_info(exc, traceback.format_exc()))

    def send_to_error_queue(self, item: dict[str, Any], error: dict[str, Any]) -> None:
        """Push the failed item, with what went wrong, to the group's error queue."""
        item["error"] = error
        item["last_push_time"] = time.time()
        item.pop("delay", None)
        self.backend.error_queue.push(item)
        self._emit("error", item)

    # --- metadata and events -----------------------------------------------------------------

    def register_metadata_producer_consumer(
        self,
        producer_consumer: MetadataProducerConsumer,
    ) -> None:
        """Add a producer/consumer of metadata; its NAMESPACE must be unique here."""
        for existing in self._metadata_producer_consumers:
            if existing.NAMESPACE == producer_consumer.NAMESPACE:
                raise ValueError(f"NAMESPACE {producer_consumer.NAMESPACE} is already in use")
        self._metadata_producer_consumers.append(producer_consumer)

    def clear_metadata_producer_consumers(self) -> None:
        """Remove every metadata producer/consumer."""
        self._metadata_producer_consumers = []

    def register_event_consumer(self, event_consumer: Any) -> None:
        """Add an object with any of the ``on_<event>(item)`` methods."""
        self._event_consumers.append(event_consumer)

    def clear_event_consumers(self) -> None:
        """Remove every event consumer."""
        self._event_consumers = []

    def _emit(self, event: str, item: Any) -> None:
        for consumer in self._event_consumers:
            handler = getattr(consumer, f"on_{event}", None)
            if handler is not None:
                handler(item)
