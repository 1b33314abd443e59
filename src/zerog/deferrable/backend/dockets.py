"""deferrable's Dockets backend, mapped onto zerog's ``redis://`` store.

``DocketsBackendFactory(redis_client, wait_time=3, timeout=300)`` opens the Redis server the
client is connected to as a zerog store (``redis://host:port/db``): each group's queues are zerog
queues there, ``timeout`` is how long a popped item stays in flight without a touch and
``wait_time`` how long ``pop`` waits for one. Dockets' own Redis keys are not read: items
queued by deferrable itself stay where they are.

Without the ``redis`` extra, opening one raises ConfigurationError naming what to install.
"""

from __future__ import annotations

from typing import Any

from zerog.deferrable.backend.base import Backend, BackendFactory
from zerog.deferrable.queue.dockets import DocketsErrorQueue, DocketsQueue
from zerog.errors import ConfigurationError
from zerog.store import Store, open_store


class DocketsBackend(Backend):
    """A group's queues on the Redis store."""


class DocketsBackendFactory(BackendFactory):
    """deferrable's Dockets factory: ``redis_client`` (a redis-py client, or a redis:// URL)
    names the server."""

    queue_class = DocketsQueue
    error_queue_class = DocketsErrorQueue
    backend_class = DocketsBackend

    def __init__(self, redis_client: Any, wait_time: float = 3, timeout: float = 300) -> None:
        self.redis_client = redis_client
        super().__init__(_open(redis_url(redis_client)), float(timeout), float(wait_time))


def redis_url(redis_client: Any) -> str:
    """The zerog URL of the server a redis-py client (or a URL) points at."""
    if isinstance(redis_client, str):
        return redis_client
    options = dict(getattr(getattr(redis_client, "connection_pool", None), "connection_kwargs", {}))
    if options.get("path"):
        return f"unix://{options['path']}?db={options.get('db', 0)}"
    password = options.get("password")
    user = options.get("username") or ""
    auth = f"{user}:{password}@" if password else ""
    host, port = options.get("host", "localhost"), options.get("port", 6379)
    return f"redis://{auth}{host}:{port}/{options.get('db', 0)}"


def _open(url: str) -> Store:
    try:
        return open_store(url)
    except ConfigurationError as exc:
        raise ConfigurationError(
            "deferrable's Dockets backend runs on zerog's Redis store (redis://), which this "
            f"zerog cannot open: {exc}. Meanwhile use ZerogBackendFactory('sqlite:///jobs.db') "
            "(or any zerog URL)"
        ) from exc
