"""Backend factories, deferrable's way: a factory per store, a backend per group.

``create_backend_for_group(group)`` gives a backend with ``queue`` (zerog queue
``deferrable:<group>``), ``error_queue`` (``deferrable:<group>_errors``) and ``group``. Any zerog
URL works through :class:`ZerogBackendFactory`; the others are conveniences for one store, and
deferrable's own names (``InMemoryBackendFactory``, ``DocketsBackendFactory``; SQS refuses).
"""

from __future__ import annotations

from urllib.parse import urlencode

from zerog.deferrable.backend.base import Backend, BackendFactory
from zerog.deferrable.backend.dockets import DocketsBackend, DocketsBackendFactory
from zerog.deferrable.backend.memory import InMemoryBackend, InMemoryBackendFactory
from zerog.deferrable.backend.redis import RedisBackendFactory
from zerog.deferrable.backend.sqs import SQSBackendFactory
from zerog.store import Store, open_store


class ZerogBackendFactory(BackendFactory):
    """Any zerog backend by URL (``sqlite:///jobs.db``, ``memory://``, ...), or a Store."""

    def __init__(
        self, url: str | Store, ttr_seconds: float | None = None, wait_seconds: float = 0.0
    ) -> None:
        store = url if isinstance(url, Store) else open_store(url)
        super().__init__(store, ttr_seconds, wait_seconds)


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


__all__ = [
    "Backend",
    "BackendFactory",
    "BeanstalkBackendFactory",
    "DocketsBackend",
    "DocketsBackendFactory",
    "InMemoryBackend",
    "InMemoryBackendFactory",
    "RedisBackendFactory",
    "SQSBackendFactory",
    "SqliteBackendFactory",
    "ZerogBackendFactory",
]
