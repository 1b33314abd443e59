"""One frozen, validated set of settings; every default is a named constant here.

Precedence: explicit arguments > CLI flags > ``ZEROG_*`` environment > these defaults.
The environment is read only by :meth:`Settings.from_env`, never at import time.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from zerog.errors import ConfigurationError

DEFAULT_URL = "sqlite:///zerog.db"  # the embedded default: no server to run.
DEFAULT_TTR_SECONDS = 60.0  # a lease lasts this long unless renewed (beanstalkd's default TTR).
DEFAULT_MAX_RETRIES = 5  # retries after the first attempt (qless's default).
DEFAULT_PRIORITY = 0  # lower runs sooner; negative numbers jump the line.
BACKOFF_BASE_SECONDS = 2.0  # first retry waits about this long, doubling each attempt.
BACKOFF_CAP_SECONDS = 3600.0  # no retry waits longer than an hour.
MAX_VALUES_BYTES = 1 << 20  # a job's values (its checkpoint) as JSON.
MAX_RESULT_BYTES = 1 << 20  # a job's result as JSON.
MAX_MESSAGE_CHARS = 4096  # one log line or error message; longer ones are cut.
MAX_TRACEBACK_CHARS = 32768  # a stored traceback; the end is kept, where the error is.
MAX_EVENTS = 1000  # log lines kept per job; the oldest go first.
MAX_ERRORS = 100  # errors kept per job; the oldest go first.
PROGRESS_FLUSH_SECONDS = 0.5  # progress writes are coalesced to at most two a second.
MIN_PROGRESS_INTERVAL_SECONDS = 2.0  # the seed's enforceMinInterval spacing.
POLL_INTERVAL_SECONDS = 1.0  # the longest an idle worker sleeps between polls.
# A running job learns of a cancel, a pause or a message within about this long (plus a
# heartbeat tick): messages are promised within 2 s (zerog.inbox).
CONTROL_POLL_SECONDS = 1.0
RESCUE_INTERVAL_SECONDS = 5.0  # how often each worker looks for expired leases.
GRACE_SECONDS = 30.0  # SIGTERM waits this long for running jobs before releasing them.


@dataclass(frozen=True, kw_only=True)
class Settings:
    """What a client, worker or server needs to know; validated on creation."""

    url: str = DEFAULT_URL
    ttr_seconds: float = DEFAULT_TTR_SECONDS
    max_retries: int = DEFAULT_MAX_RETRIES
    backoff_base_seconds: float = BACKOFF_BASE_SECONDS
    backoff_cap_seconds: float = BACKOFF_CAP_SECONDS
    max_values_bytes: int = MAX_VALUES_BYTES
    max_result_bytes: int = MAX_RESULT_BYTES
    poll_interval_seconds: float = POLL_INTERVAL_SECONDS
    rescue_interval_seconds: float = RESCUE_INTERVAL_SECONDS
    grace_seconds: float = GRACE_SECONDS

    def __post_init__(self) -> None:
        for field in fields(self):
            value = getattr(self, field.name)
            if field.name != "url" and (not isinstance(value, int | float) or value < 0):
                raise ConfigurationError(f"{field.name} must be a number >= 0, not {value!r}")
        if self.ttr_seconds <= 0:
            raise ConfigurationError(f"ttr_seconds must be > 0, not {self.ttr_seconds!r}")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Settings from ``ZEROG_<NAME>`` variables (e.g. ``ZEROG_URL``), then ``overrides``."""
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for field in fields(cls):
            raw = environ.get(f"ZEROG_{field.name.upper()}")
            if raw is not None and raw != "":
                values[field.name] = _parse(field.name, raw, field.type)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    def replace(self, **changes: Any) -> Settings:
        """A copy with some settings changed."""
        return dataclasses.replace(self, **changes)


def _parse(name: str, raw: str, kind: Any) -> Any:
    text = str(kind)
    try:
        if "int" in text:
            return int(raw)
        if "float" in text:
            return float(raw)
    except ValueError:
        raise ConfigurationError(f"ZEROG_{name.upper()} must be a number, not {raw!r}") from None
    return raw
