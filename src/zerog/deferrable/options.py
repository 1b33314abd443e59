"""The options of one deferrable function, checked by deferrable's rules and messages."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from zerog.deferrable.delay import MAXIMUM_DELAY_SECONDS, TimeOption, seconds


@dataclass(frozen=True)
class Options:
    """What ``@d.deferrable(...)`` was given; time options may be callables, evaluated at
    each ``.later()`` (deferrable allows ``delay_seconds=lambda: 1``)."""

    error_classes: Iterable[type[BaseException]] | None = None
    max_attempts: int | None = None
    use_exponential_backoff: bool = True
    ttl_seconds: TimeOption = 0
    delay_seconds: TimeOption = 0
    debounce_seconds: TimeOption = 0
    debounce_always_delay: bool = False

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
        """deferrable's rules, with its messages (a debounce needs no Redis client here: the
        store keeps its state)."""
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
