"""Backend factories, deferrable's way: a factory per store, a backend per group.

``create_backend_for_group(group)`` gives a backend with ``queue`` (zerog queue
``deferrable_<group>``), ``error_queue`` (``deferrable_<group>_errors``) and ``group``. Any zerog
URL works through :class:`ZerogBackendFactory`; the others are conveniences for one store.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from zerog.backends.memory import MemoryBackend
from zerog.deferrable.queue import Queue
from zerog.settings import Settings
from zerog.store import Store

QUEUE_PREFIX = "deferrable"


class Backend:
    """A group's main queue and error queue."""

    def __init__(self, group: str | None, queue: Queue, error_queue: Queue) -> None:
        self.group = group
        self.queue = queue
        self.error_queue = error_queue


class BackendFactory:
    """Makes one Backend per group, all sharing one store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    @staticmethod
    def _queue_name(group: str | None) -> str:
        return f"{QUEUE_PREFIX}_{group}" if group else QUEUE_PREFIX

    def create_backend_for_group(self, group: str | None) -> Backend:
        """The backend of ``group``."""
        name = self._queue_name(group)
        return Backend(group, Queue(self.store, name), Queue(self.store, f"{name}_errors"))


class ZerogBackendFactory(BackendFactory):
    """Any zerog backend by URL (``sqlite:///jobs.db``, ``memory://``, ...), or a Store."""

    def __init__(self, url: str | Store) -> None:
        super().__init__(url if isinstance(url, Store) else Store.from_url(url))


class SqliteBackendFactory(ZerogBackendFactory):
    """The embedded SQLite store at ``path``."""

    def __init__(self, path: str) -> None:
        super().__init__(f"sqlite:///{path}")


class BeanstalkBackendFactory(ZerogBackendFactory):
    """beanstalkd tubes at ``host:port`` (one per group's queue), the records in ``store``
    (a SQLite URL); ``prefix`` goes before each tube's name."""

    def __init__(
        self, store: str, host: str = "127.0.0.1", port: int = 11300, prefix: str = ""
    ) -> None:
        options = {"store": store, **({"prefix": prefix} if prefix else {})}
        super().__init__(f"beanstalk://{host}:{port}?{urlencode(options)}")


class RedisBackendFactory(BackendFactory):
    """zerog's Redis store on the server of ``redis_client`` (a redis-py client, deferrable's
    own ``redis_client``; the caller keeps it and closes it) or of a ``redis://`` URL; the
    store's keys start with ``{prefix}``. Debounce, which deferrable keeps in its
    ``redis_client``, lives there too: in the store, in the same step as the push."""

    def __init__(
        self, redis_client: Any = "redis://localhost:6379/0", prefix: str = "zerog"
    ) -> None:
        if isinstance(redis_client, str):
            joiner = "&" if "?" in redis_client else "?"
            url = f"{redis_client}{joiner}{urlencode({'prefix': prefix})}"
            super().__init__(Store.from_url(url))
            return
        from zerog.backends.redis import RedisBackend

        backend = RedisBackend.from_client(redis_client, prefix)
        super().__init__(Store(backend, Settings(url=backend.options.url)))


class InMemoryBackendFactory(BackendFactory):
    """A store in this process's memory (tests, a single process)."""

    def __init__(self) -> None:
        super().__init__(Store(MemoryBackend(), Settings(url="memory://")))


__all__ = [
    "Backend",
    "BackendFactory",
    "BeanstalkBackendFactory",
    "InMemoryBackendFactory",
    "RedisBackendFactory",
    "SqliteBackendFactory",
    "ZerogBackendFactory",
]
