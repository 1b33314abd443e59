"""``Deferrable``: register module-level functions, call them ``.later()``, run them anywhere.

The producer side (``@d.deferrable``, ``fn.later(...)``) builds a JSON item and pushes it to
the group's queue. The consumer side is either ``d.run_once()`` (deferrable's loop) or any
``zerog worker`` watching the queue: both decide an item's fate the same way (:meth:`decide`):
run it; retry it with exponential backoff when it raised one of its ``error_classes`` and has
attempts left; else send it to the error queue. Ten events tell event consumers what happened.
"""

from __future__ import annotations

import json
import logging
import socket
import time
import traceback
import uuid as uuidlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from zerog.deferrable import calls
from zerog.deferrable.backend import Backend
from zerog.deferrable.metadata import MetadataProducerConsumer
from zerog.deferrable.queue import Envelope
from zerog.record import Debounce, error_entry

log = logging.getLogger(__name__)

MAXIMUM_DELAY_SECONDS = 900  # deferrable's cap on delay, debounce and backoff.
BACKOFF_CONSTANT = 2
BACKOFF_BASE = 2
EVENTS = (
    "push", "pop", "empty", "complete", "expire", "retry", "error",
    "debounce_hit", "debounce_miss", "debounce_error",
)  # fmt: skip

TimeOption = float | Callable[[], float]


def backoff_seconds(attempt: int) -> float:
    """Delay before retrying an item whose 0-based ``attempt`` failed: 2 + 2**attempt, at
    most 900 s. (deferrable's code writes ``max`` there, which makes every retry wait 900 s;
    its README promises doubling, which is what this does.)"""
    return float(min(BACKOFF_CONSTANT + BACKOFF_BASE**attempt, MAXIMUM_DELAY_SECONDS))


@dataclass(frozen=True)
class Decision:
    """What became of one run of an item."""

    outcome: str  # done, expired, retry or error
    delay_seconds: float = 0.0
    error: dict[str, Any] | None = None


class Deferrable:
    """Deferred, distributed execution of module-level functions through ``backend``."""

    def __init__(
        self,
        backend: Backend,
        redis_client: Any = None,
        default_error_classes: Iterable[type[BaseException]] | None = None,
        default_max_attempts: int = 5,
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

    def _deferrable(
        self,
        method: Callable[..., Any],
        error_classes: Iterable[type[BaseException]] | None = None,
        max_attempts: int | None = None,
        use_exponential_backoff: bool = True,
        ttl_seconds: TimeOption = 0,
        delay_seconds: TimeOption = 0,
        debounce_seconds: TimeOption = 0,
        debounce_always_delay: bool = False,
    ) -> Callable[..., Any]:
        path = calls.function_path(method)
        options = Options(
            error_classes,
            max_attempts,
            use_exponential_backoff,
            ttl_seconds,
            delay_seconds,
            debounce_seconds,
            debounce_always_delay,
        )
        if not options.has_callables():
            options.validate()

        def later(*args: Any, **kwargs: Any) -> str | None:
            return self._later(path, options, args, kwargs)

        method.later = later  # type: ignore[attr-defined]
        method.deferrable_instance = self  # type: ignore[attr-defined]
        return method

    def _later(
        self, path: str, options: Options, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> str | None:
        calls.check_arguments(path, args, kwargs)
        resolved = options.resolved()
        resolved.validate()
        item = self._item(path, resolved, args, kwargs)
        for producer_consumer in self._metadata_producer_consumers:
            producer_consumer._apply_metadata_to_item(item)
        debounce = _debounce_of(path, resolved, args, kwargs)
        if debounce is None:
            uuid = self.backend.queue.push(item)
        else:
            placed = self.backend.queue.push_debounced(item, debounce)
            if placed.outcome == "skipped":
                self._emit("debounce_hit", item)
                return None
            self._emit("debounce_miss", item)
            uuid = placed.uuid
        self._emit("push", item)
        return uuid

    def _item(
        self, path: str, options: Options, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> dict[str, Any]:
        now = time.time()
        classes = options.error_classes
        if classes is None:
            classes = self.default_error_classes
        attempts = options.max_attempts
        if attempts is None:
            attempts = self.default_max_attempts
        return {
            "method": path, "args": list(args), "kwargs": kwargs,
            "group": self.backend.group,
            "error_classes": [calls.class_path(c) for c in (classes or ())],
            "attempts": 0, "max_attempts": attempts,
            "use_exponential_backoff": options.use_exponential_backoff,
            "first_push_time": now, "last_push_time": now,
            "ttl_seconds": options.ttl_seconds or None,
            "expire_at": now + seconds(options.ttl_seconds) if options.ttl_seconds else None,
            "original_delay_seconds": options.delay_seconds,
            "original_debounce_seconds": options.debounce_seconds,
            "original_debounce_always_delay": options.debounce_always_delay,
            "delay": options.delay_seconds, "original_delay": options.delay_seconds,
        }  # fmt: skip

    # --- consumer ----------------------------------------------------------------------------

    def run_once(self) -> None:
        """Pop one item from the main queue and process it (nothing to do: ``on_empty``)."""
        envelope, item = self.backend.queue.pop()
        self.process(envelope, item)

    def process(self, envelope: Envelope | None, item: dict[str, Any] | None) -> None:
        """Run a popped item and settle it: complete, retry, or the error queue."""
        if envelope is None or item is None:
            self._emit("empty", item)
            return
        self._emit("pop", item)
        decision = self.decide(item)
        self.settle(envelope, item, decision)

    def decide(self, item: dict[str, Any]) -> Decision:
        """Run the item's function (unless its TTL passed) and decide what follows."""
        for producer_consumer in self._metadata_producer_consumers:
            producer_consumer._consume_metadata_from_item(item)
        if item.get("expire_at") and time.time() > item["expire_at"]:
            log.warning("deferred call dropped, its TTL passed: %s", item["method"])
            return Decision("expired")
        try:
            calls.resolve(item["method"])(*item.get("args", ()), **item.get("kwargs", {}))
        except Exception as exc:
            return self._failed(item, exc)
        return Decision("done")

    def _failed(self, item: dict[str, Any], exc: Exception) -> Decision:
        retryable = calls.resolve_classes(item.get("error_classes") or [])
        error = error_entry(
            time.time(), None, f"{type(exc).__name__}: {exc}", traceback.format_exc()
        )
        if isinstance(exc, retryable) and item["attempts"] < item["max_attempts"] - 1:
            use_backoff = item.get("use_exponential_backoff", True)
            delay = backoff_seconds(item["attempts"]) if use_backoff else 0.0
            return Decision("retry", delay, error)
        return Decision("error", 0.0, error)

    def settle(self, envelope: Envelope, item: dict[str, Any], decision: Decision) -> None:
        """Settle a popped item's job the way ``decision`` says, emitting the events."""
        store = self.backend.queue.store
        if decision.outcome == "retry":
            store.retry(envelope.lease, decision.delay_seconds, decision.error)
            item["attempts"] += 1
            self._emit("retry", item)
            return
        if decision.outcome == "error":
            store.fail(envelope.lease, decision.error)
            self.send_to_error_queue(item, decision)
            return
        if decision.outcome == "expired":
            self._emit("expire", item)
        store.complete(envelope.lease)
        self._emit("complete", item)

    def send_to_error_queue(self, item: dict[str, Any], decision: Decision) -> None:
        """Push the failed item, with what went wrong, to the group's error queue."""
        error = decision.error or {}
        failed = dict(item, delay=0, last_push_time=time.time())
        failed["error"] = {
            "error_text": error.get("msg", ""), "traceback": error.get("traceback", ""),
            "hostname": socket.gethostname(), "ts": time.time(), "id": str(uuidlib.uuid1()),
        }  # fmt: skip
        self.backend.error_queue.push(failed)
        self._emit("error", failed)

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


def seconds(option: TimeOption) -> float:
    """A time option's value now: callables are evaluated at each call."""
    return float(option() if callable(option) else option)


@dataclass(frozen=True)
class Options:
    """The options of one deferrable function; time options may be callables."""

    error_classes: Iterable[type[BaseException]] | None
    max_attempts: int | None
    use_exponential_backoff: bool
    ttl_seconds: TimeOption
    delay_seconds: TimeOption
    debounce_seconds: TimeOption
    debounce_always_delay: bool

    def has_callables(self) -> bool:
        """True when a time option is evaluated per call."""
        return any(
            callable(v) for v in (self.ttl_seconds, self.delay_seconds, self.debounce_seconds)
        )

    def resolved(self) -> Options:
        """These options with callables evaluated now."""
        return Options(
            self.error_classes,
            self.max_attempts,
            self.use_exponential_backoff,
            seconds(self.ttl_seconds),
            seconds(self.delay_seconds),
            seconds(self.debounce_seconds),
            self.debounce_always_delay,
        )

    def validate(self) -> None:
        """deferrable's rules, with its messages."""
        delay, debounce = seconds(self.delay_seconds), seconds(self.debounce_seconds)
        ttl = seconds(self.ttl_seconds)
        if delay and debounce:
            raise ValueError(
                "You cannot delay and debounce at the same time (debounce uses delay internally)."
            )
        if delay > MAXIMUM_DELAY_SECONDS or debounce > MAXIMUM_DELAY_SECONDS:
            raise ValueError("Delay or debounce window cannot exceed 15 minutes (900 seconds)")
        if self.debounce_always_delay and not debounce:
            raise ValueError(
                "debounce_always_delay is an option to debounce_seconds, which "
                "was not set. Probably a mistake."
            )
        if ttl and (delay > ttl or debounce > ttl):
            raise ValueError("delay_seconds or debounce_seconds must be less than ttl_seconds")


def _debounce_of(
    path: str, options: Options, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Debounce | None:
    """The store-side debounce of a call: one key per function and arguments (as deferrable:
    the same method, args and kwargs are the same call)."""
    window = seconds(options.debounce_seconds)
    if not window:
        return None
    call = json.dumps([path, list(args), kwargs], sort_keys=True, separators=(",", ":"))
    always = options.debounce_always_delay
    return Debounce(key=f"deferrable:{call}", seconds=window, always_delay=always)
