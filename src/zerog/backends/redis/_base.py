"""What every role of the Redis backend shares: the client, the script runner, the clock."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Sequence
from typing import Any

import redis

from zerog.backends.redis import _codec
from zerog.backends.redis._connect import (
    Options,
    check_server,
    connect,
    server_offset,
    use_functions,
)
from zerog.backends.redis._scripts import Runner


class RedisBase:
    """The connection to one store (a key prefix on one Redis) and the way scripts run on it.

    Times: every stored time is the server's (``TIME`` inside each script). ``clock`` reads
    this host's clock plus the offset to the server's measured at open, which costs no round
    trip; with a fake clock (the tests'), the scripts are given its reading instead of
    reading ``TIME``.
    """

    history_limit: int | None = None  # set by the Store (Upkeep.history_limit)
    clock: Callable[[], float]  # set by Backend.__init__

    def __init__(
        self,
        options: Options,
        clock: Callable[[], float] | None,
        client: redis.Redis | None = None,
    ) -> None:
        self.options = options
        self._owns_client = client is None  # a caller's client stays open at close().
        self.client: redis.Redis = client if client is not None else connect(options)
        try:
            version = check_server(self.client, options.where)
            functions = use_functions(options, version, options.where)
            self.offset = 0.0 if clock is not None else server_offset(self.client)
        except BaseException:
            if self._owns_client:
                self.client.close()
            raise
        self._fake_clock = clock
        self.runner = Runner(
            self.client, options.root, self._now_arg, self._history_cap, options.where, functions
        )

    def server_clock(self) -> float:
        """The server's time, as this host's clock plus the offset measured at open."""
        return time.time() + self.offset

    def _now_arg(self) -> str:
        clock = self._fake_clock
        return "" if clock is None else repr(float(clock()))

    def _history_cap(self) -> int:
        return int(self.history_limit or 0)

    @property
    def root(self) -> str:
        """The store's key root, ``{<prefix>}`` (a Redis Cluster hash tag)."""
        return self.options.root

    def key(self, *parts: str) -> str:
        """A key of the store (see ``lua/lib/core.lua`` for the layout)."""
        return ":".join((self.options.root, *parts))

    def script(
        self,
        name: str,
        *args: Any,
        uuid: str = "",
        token: int = 0,
        sent: list[int] | None = None,
    ) -> Sequence[Any]:
        """Run a script; its reply, or the error it names raised (see Runner.run for
        ``sent``)."""
        return _codec.checked(self.runner.run(name, *args, sent=sent), uuid, token)

    def command(self, command: Callable[[], Any]) -> Any:
        """Run a plain command (a read, or a write that moves no job), retried like a script."""
        return self.runner.call(command)

    @staticmethod
    def nonce() -> str:
        """A fresh nonce for a write that may be sent twice (see ``lua/lib/core.lua``)."""
        return secrets.token_hex(8)
