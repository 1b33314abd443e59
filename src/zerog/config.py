"""Shared settings kept in the store (qless's config keys), read by every worker and client.

Unlike :mod:`zerog.settings` (one process's options), these live in the backend, so that one
``set`` changes every process: how long leases last, how long finished jobs and statistics
are kept. Unknown keys may be set too (any JSON value), as qless allows.
"""

from __future__ import annotations

from typing import Any

from zerog.errors import InvalidOptions
from zerog.model import Retention

DEFAULTS: dict[str, Any] = {
    "heartbeat": 60,  # seconds a lease lasts (the default TTR of a put that names none).
    "jobs-history": 7 * 24 * 3600,  # seconds finished jobs are kept.
    "jobs-history-count": 50_000,  # at most this many finished jobs are kept.
    "stats-history": 30,  # days of statistics kept.
    "histogram-history": 7,  # days of histograms kept.
    "max-job-history": 100,  # history entries kept per job, the newest.
    "stall-seconds": 900,  # a running job silent this long is stalled (see zerog.stalls).
}
"""Every known key and its default."""

WHOLE = ("jobs-history-count", "stats-history", "histogram-history", "max-job-history")


STALL_POLICIES = ("alert", "cancel", "retry", "pause")
"""What the worker does to a stalled job (see zerog.stalls); ``alert``, the default, only tells."""


def check(key: str, value: Any) -> None:
    """Refuse a value a known key cannot take; None (unset) is always allowed."""
    if not isinstance(key, str) or not key:
        raise InvalidOptions(f"a config key is a non-empty string, not {key!r}")
    if value is None:
        return
    if key == "stall-policy" or key.endswith("-stall-policy"):
        check_stall_policy(value, f"config {key!r}")
        return
    if key == "webhook-url":
        check_webhook_url(value)
        return
    if not _is_known(key):
        return
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise InvalidOptions(f"config {key!r} must be a number > 0, not {value!r}")
    if key in WHOLE and int(value) != value:
        raise InvalidOptions(f"config {key!r} must be a whole number, not {value!r}")


def _is_known(key: str) -> bool:
    return (
        key in DEFAULTS
        or key.endswith(("-heartbeat", "-stall-seconds"))
        or key.startswith("heartbeat-")
    )


def effective(stored: dict[str, Any]) -> dict[str, Any]:
    """The defaults overlaid with what was set."""
    return {**DEFAULTS, **stored}


def heartbeat_for(stored: dict[str, Any], queue: str, default: float | None = None) -> float:
    """The lease of a job in ``queue``: ``<queue>-heartbeat`` (or qless-py's spelling
    ``heartbeat-<queue>``), else ``heartbeat``, else ``default`` (the settings' TTR), else
    qless's default."""
    for key in (f"{queue}-heartbeat", f"heartbeat-{queue}", "heartbeat"):
        if stored.get(key) is not None:
            return float(stored[key])
    return float(DEFAULTS["heartbeat"] if default is None else default)


def stall_for(stored: dict[str, Any], queue: str) -> float:
    """Seconds of silence after which a running job of ``queue`` is stalled:
    ``<queue>-stall-seconds``, else ``stall-seconds``."""
    for key in (f"{queue}-stall-seconds", "stall-seconds"):
        if stored.get(key) is not None:
            return float(stored[key])
    return float(DEFAULTS["stall-seconds"])


def stall_policy_for(stored: dict[str, Any], queue: str) -> str:
    """What is done to a stalled job of ``queue`` that names no policy of its own:
    ``<queue>-stall-policy``, else ``stall-policy``, else ``alert``."""
    for key in (f"{queue}-stall-policy", "stall-policy"):
        if stored.get(key) is not None:
            return str(stored[key])
    return "alert"


def check_stall_policy(value: Any, what: str = "stall_policy") -> None:
    """Refuse a stall policy that is none of :data:`STALL_POLICIES`."""
    if value not in STALL_POLICIES:
        raise InvalidOptions(f"{what} must be one of {', '.join(STALL_POLICIES)}, not {value!r}")


def check_webhook_url(value: Any) -> None:
    """A webhook is an http(s) URL."""
    if not isinstance(value, str) or not value.startswith(("http://", "https://")):
        raise InvalidOptions(f"config 'webhook-url' must be an http(s) URL, not {value!r}")


def retention(stored: dict[str, Any]) -> Retention:
    """How long finished jobs and statistics are kept, by the config."""
    config = effective(stored)
    return Retention(
        jobs_seconds=float(config["jobs-history"]),
        jobs_count=int(config["jobs-history-count"]),
        stats_days=int(config["stats-history"]),
        histogram_days=int(config["histogram-history"]),
    )


def history_limit(stored: dict[str, Any]) -> int:
    """History entries kept per job."""
    return int(effective(stored)["max-job-history"])
