"""Interchangeable stores for job records, chosen by URL.

``open_backend(url)`` is the one way to get one. Each scheme is a row of :data:`SCHEMES`: the
class that opens its URLs (``"module:Class"``, imported on first use, so that a backend's
driver is needed only by those who use it), the driver module it needs and the extra that
installs it. A missing driver names the extra to install.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass

from zerog.backends.contract import Backend
from zerog.errors import ConfigurationError
from zerog.urls import parse_url


@dataclass(frozen=True)
class Scheme:
    """How a URL scheme becomes a backend."""

    target: str | None  # "module:Class" of a Backend with from_url(); None: not in this version.
    extra: str | None = None  # the extra that installs the driver: pip install 'zerog[<extra>]'.
    driver: str | None = None  # the module the extra installs, imported first to tell it missing.
    needs: str = ""  # the driver as a message names it, e.g. "psycopg 3".


SCHEMES: dict[str, Scheme] = {
    "memory": Scheme("zerog.backends.memory:MemoryBackend"),
    "sqlite": Scheme("zerog.backends.sqlite:SqliteBackend"),
    "postgresql": Scheme(
        "zerog.backends.postgres:PostgresBackend", "postgres", "psycopg", "psycopg 3"
    ),
    "beanstalk": Scheme(
        "zerog.backends.beanstalk:BeanstalkBackend", "beanstalk", "greenstalk", "greenstalk"
    ),
    "redis": Scheme("zerog.backends.redis:RedisBackend", "redis", "redis", "redis-py"),
}
"""Every scheme :func:`zerog.urls.parse_url` accepts, and the backend it opens."""


def open_backend(url: str, clock: Callable[[], float] | None = None) -> Backend:
    """The backend a URL names, e.g. ``sqlite:///jobs.db`` or ``memory://``."""
    parsed = parse_url(url)
    return backend_class(parsed.scheme).from_url(parsed, clock=clock)


def backend_class(scheme: str) -> type[Backend]:
    """The class of a scheme's backends, imported now; ConfigurationError naming the extra
    to install when its driver is missing, or when this version has no such backend."""
    row = SCHEMES[scheme]
    if row.target is None:
        raise ConfigurationError(
            f"the {scheme}:// backend is not available in this version of zerog "
            f"(it will ship as the extra zerog[{row.extra}])"
        )
    if row.driver is not None:
        try:
            # Only to tell a missing driver from other errors: the backend imports it itself.
            importlib.import_module(row.driver)
        except ImportError as exc:
            raise ConfigurationError(
                f"the {scheme}:// backend needs {row.needs}: pip install 'zerog[{row.extra}]' "
                f"({exc})"
            ) from exc
    module, name = row.target.split(":")
    cls: type[Backend] = getattr(importlib.import_module(module), name)
    return cls


__all__ = ["SCHEMES", "Backend", "ConfigurationError", "Scheme", "backend_class", "open_backend"]
