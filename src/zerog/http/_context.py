"""What every handler of one API shares: the store, the token, the limits and the executor.

Store calls block (SQLite reads a file, Redis and PostgreSQL wait on a socket), so handlers
never make them on the event loop: :meth:`ApiContext.run` sends them to a small, bounded thread
pool. One slow call then holds one thread, never the loop, and the other requests go on.
"""

from __future__ import annotations

import hmac
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

from tornado.ioloop import IOLoop

from zerog.audit import TOKEN_NAME
from zerog.http._batch import EnqueueBatcher
from zerog.http._metrics_http import HttpMetrics
from zerog.store import MAX_PAGE, Store, default_store

T = TypeVar("T")

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})
"""Host names a server bound to the loopback interface answers to (see ``allowed_hosts``)."""


@dataclass(frozen=True, kw_only=True)
class Limits:
    """Bounds on what one request may ask; each default is what a mature service would pick.

    ``max_body_bytes`` leaves room above the store's 1 MiB limit on a job's values for JSON
    written with spaces; the store still refuses values over its own limit (also a 413).
    """

    max_body_bytes: int = 2 << 20  # a request body; more is a 413 before it is parsed.
    max_param_chars: int = 256  # a path or query parameter (queue, type, tag, cursor, uuid).
    max_json_depth: int = 32  # nesting of a JSON body; deeper is a 400, not a RecursionError.
    max_int_digits: int = 300  # an integer in a JSON body (floats overflow past ~308 digits).
    max_tags: int = 32  # tags given to one job at enqueue.
    default_page: int = 50  # jobs in a list page when no limit is asked.
    max_page: int = MAX_PAGE  # larger limits are clamped to this.
    max_kick: int = 10_000  # failed jobs one kick may retry.
    executor_threads: int = 8  # store calls running at once; more wait their turn.
    stream_poll_seconds: float = 0.5  # how often a live stream re-reads its job.
    stream_keepalive_seconds: float = 15.0  # a comment line keeps idle proxies from closing it.
    stream_max_seconds: float = 3600.0  # a stream then ends; EventSource reconnects by itself.
    stream_initial_lines: int = 100  # log lines sent in a stream's first message.
    window_jobs: int = 500  # finished jobs that queue stats and duration metrics look at.


class ApiContext:
    """The state handlers share; one per application (see :func:`zerog.http.make_app`)."""

    def __init__(
        self,
        store: Store | None = None,
        token: str | Iterable[str] | None = None,
        limits: Limits | None = None,
        executor: ThreadPoolExecutor | None = None,
        allowed_hosts: Iterable[str] | None = None,
        prefix: str = "",
    ) -> None:
        self._store = store
        self.prefix = prefix.rstrip("/")  # where the routes are mounted: "" or "/zerog".
        # (name, secret) of each token; a name (NAME=SECRET) is the actor of what its holder
        # does (zerog.audit). An empty token means none: never "everyone knows it".
        self.tokens = parse_tokens(token)
        self.token = self.tokens[0][1] if self.tokens else None
        self.limits = limits or Limits()
        self._owns_executor = executor is None
        self.executor = executor or ThreadPoolExecutor(
            self.limits.executor_threads, thread_name_prefix="zerog-http"
        )
        self.allowed_hosts = (
            None if allowed_hosts is None else frozenset(h.lower() for h in allowed_hosts)
        )
        self.http_metrics = HttpMetrics()
        self.batcher = EnqueueBatcher(self)

    @property
    def store(self) -> Store:
        """The store given, else the process's default store (opened on first use, so read
        it only inside :meth:`run`)."""
        return self._store if self._store is not None else default_store()

    async def run(self, call: Callable[[Store], T]) -> T:
        """Run ``call(store)`` on the executor and await its result."""
        return await IOLoop.current().run_in_executor(self.executor, self._call, call)

    def _call(self, call: Callable[[Store], T]) -> T:
        return call(self.store)

    def token_matches(self, presented: str) -> bool:
        """Whether ``presented`` is one of the tokens (any, when there is none)."""
        return not self.tokens or self.token_name(presented) is not None

    def token_name(self, presented: str) -> str | None:
        """The name of the token presented ("" for an unnamed one), None when it is none of
        them. Every token is compared, each in constant time, so response times tell nothing
        about any of them."""
        found = None
        for name, secret in self.tokens:
            if hmac.compare_digest(presented.encode(), secret.encode()) and found is None:
                found = name
        return found

    def host_allowed(self, host_header: str) -> bool:
        """Whether a ``Host`` header names this server (guards against DNS rebinding, where a
        hostile page's own domain is made to resolve to 127.0.0.1)."""
        if self.allowed_hosts is None:
            return True
        return _host_name(host_header) in self.allowed_hosts

    def close(self) -> None:
        """Stop the executor if this context made it (waits for calls under way)."""
        if self._owns_executor:
            self.executor.shutdown(wait=True)


def parse_tokens(tokens: str | Iterable[str] | None) -> list[tuple[str, str]]:
    """(name, secret) of each token: ``NAME=SECRET`` is named, anything else unnamed ("")."""
    given = [tokens] if isinstance(tokens, str) else list(tokens or ())
    out = []
    for text in given:
        if not text:
            continue
        named = TOKEN_NAME.match(text)
        out.append((named.group(1), named.group(2)) if named else ("", text))
    return out


def _host_name(host_header: str) -> str:
    """``example.com:8080`` → ``example.com``; ``[::1]:8080`` → ``[::1]``."""
    host = host_header.strip().lower()
    if host.startswith("["):
        return host[: host.find("]") + 1] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


_default_lock = threading.Lock()
_default: ApiContext | None = None


def default_context() -> ApiContext:
    """The context of handlers mounted without one: the default store, no token."""
    global _default
    with _default_lock:
        if _default is None:
            _default = ApiContext()
        return _default
