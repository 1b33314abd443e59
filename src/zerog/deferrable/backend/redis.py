"""deferrable's ``redis_client``, where deferrable uses it: zerog's Redis store on that server.

``RedisBackendFactory(redis_client)`` takes a redis-py client (deferrable's own
``redis_client``) or a ``redis://`` URL and opens zerog's Redis store on the same server and
database, its keys under ``prefix``. Debounce, which deferrable keeps in its ``redis_client``,
lives in that store too, decided in the same step as the push.
"""

from __future__ import annotations

from typing import Any

from zerog.deferrable.backend.base import BackendFactory
from zerog.deferrable.backend.dockets import redis_url
from zerog.store import open_store


class RedisBackendFactory(BackendFactory):
    """Each group's queues in zerog's Redis store on the server ``redis_client`` names."""

    def __init__(
        self, redis_client: Any = "redis://localhost:6379/0", prefix: str = "zerog"
    ) -> None:
        url = redis_url(redis_client)
        joiner = "&" if "?" in url else "?"
        super().__init__(open_store(f"{url}{joiner}prefix={prefix}"))
