"""Interchangeable stores for job records, chosen by URL.

``open_backend(url)`` is the one way to get one; a missing driver names the extra to install.
"""

from __future__ import annotations

from collections.abc import Callable

from zerog.backends.contract import Backend
from zerog.errors import ConfigurationError
from zerog.urls import parse_url

EXTRAS = {"redis": "redis", "postgresql": "postgres", "beanstalk": "beanstalk"}


def open_backend(url: str, clock: Callable[[], float] | None = None) -> Backend:
    """The backend a URL names, e.g. ``sqlite:///jobs.db`` or ``memory://``."""
    parsed = parse_url(url)
    if parsed.scheme == "memory":
        from zerog.backends.memory import MemoryBackend

        return MemoryBackend(clock=clock)
    if parsed.scheme == "sqlite":
        from zerog.backends.sqlite import SqliteBackend

        return SqliteBackend.from_url(parsed, clock=clock)
    if parsed.scheme == "beanstalk":
        try:
            from zerog.backends.beanstalk import BeanstalkBackend
        except ImportError as exc:
            raise ConfigurationError(
                f"the beanstalk:// backend needs greenstalk: pip install 'zerog[beanstalk]' ({exc})"
            ) from exc
        return BeanstalkBackend.from_url(parsed, clock=clock)
    if parsed.scheme == "postgresql":
        try:
            import psycopg  # noqa: F401 - only to tell a missing driver from other errors.
        except ImportError as exc:
            raise ConfigurationError(
                f"the postgresql:// backend needs psycopg 3: pip install 'zerog[postgres]' ({exc})"
            ) from exc
        from zerog.backends.postgres import PostgresBackend

        return PostgresBackend.from_url(parsed, clock=clock)
    if parsed.scheme == "redis":
        try:
            from zerog.backends.redis import RedisBackend
        except ImportError as exc:
            raise ConfigurationError(
                f"the redis:// backend needs redis-py: pip install 'zerog[redis]' ({exc})"
            ) from exc
        return RedisBackend.from_url(parsed, clock=clock)
    extra = EXTRAS[parsed.scheme]
    raise ConfigurationError(
        f"the {parsed.scheme}:// backend is not available in this version of zerog "
        f"(it will ship as the extra zerog[{extra}])"
    )


__all__ = ["Backend", "ConfigurationError", "open_backend"]
