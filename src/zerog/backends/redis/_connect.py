"""Opening a Redis job store: the URL, the client, and the checks a server must pass.

``redis://[:password@]host[:port][/db]``, ``rediss://`` (TLS) and ``unix:///path.sock?db=N``
are redis-py's own URLs; zerog reads two options of its own, ``prefix`` (default ``zerog``)
and ``scripts`` (``function``, the default on Redis 7 and later, or ``eval``: see
_scripts.py), and hands the rest to redis-py (``socket_timeout``, ``ssl_cert_reqs``, ...).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit

import redis
import redis.exceptions as rx

from zerog.errors import BackendUnavailable, ConfigurationError
from zerog.urls import BackendURL

DEFAULT_PREFIX = "zerog"
MIN_VERSION = (6, 0)  # float timeouts of blocking pops.
FUNCTIONS_VERSION = (7, 0)  # FUNCTION LOAD and FCALL.
SOCKET_TIMEOUT_SECONDS = 30.0  # a server that stops answering (SIGSTOP) fails a call then.
CONNECT_TIMEOUT_SECONDS = 10.0
OURS = ("prefix", "scripts")  # URL options zerog reads; the others go to redis-py.


@dataclass(frozen=True)
class Options:
    """Where the store is: redis-py's URL (without zerog's options), the key prefix, and the
    URL to show in messages (password masked)."""

    url: str
    prefix: str
    where: str
    scripts: str | None = None  # "function", "eval", or None: functions where the server can.

    @property
    def root(self) -> str:
        """The root of every key of the store: the prefix in braces, a Redis Cluster hash
        tag, so that all the keys of one store live in one slot."""
        return "{" + self.prefix + "}"


def options_of(parsed: BackendURL) -> Options:
    """The options a ``redis://``, ``rediss://`` or ``unix://`` URL names."""
    parts = urlsplit(parsed.raw)
    query = parse_qsl(parts.query, keep_blank_values=True)
    prefix = dict(query).get("prefix", DEFAULT_PREFIX)
    if not prefix or any(c in prefix for c in "{}") or any(c.isspace() for c in prefix):
        raise ConfigurationError(
            f"prefix must be a non-empty name without braces or spaces, not {prefix!r}"
        )
    scripts = dict(query).get("scripts")
    if scripts not in (None, "function", "eval"):
        raise ConfigurationError(f"scripts must be 'function' or 'eval', not {scripts!r}")
    rest = urlencode([(k, v) for k, v in query if k not in OURS])
    url = parsed.raw.split("?", 1)[0] + (f"?{rest}" if rest else "")  # unix:/// keeps its //.
    return Options(url=url, prefix=prefix, where=parsed.masked.split("?")[0], scripts=scripts)


def connect(options: Options, max_connections: int | None = None) -> redis.Redis:
    """A client on its own pool of connections (opened on first use, one per thread that
    calls at the same moment; a forked child opens its own)."""
    try:
        pool = redis.ConnectionPool.from_url(
            options.url,
            socket_timeout=SOCKET_TIMEOUT_SECONDS,
            socket_connect_timeout=CONNECT_TIMEOUT_SECONDS,
            max_connections=max_connections,
        )
    except (ValueError, TypeError) as exc:
        raise ConfigurationError(f"bad Redis URL {options.where!r}: {exc}") from exc
    return redis.Redis(connection_pool=pool)


def client_url(client: redis.Redis) -> str:
    """The URL of the server a redis-py client talks to (without its password)."""
    kwargs = client.connection_pool.connection_kwargs
    if kwargs.get("path"):
        return f"unix://{kwargs['path']}?db={kwargs.get('db', 0)}"
    scheme = "rediss" if client.connection_pool.connection_class is redis.SSLConnection else "redis"
    host, port = kwargs.get("host", "localhost"), kwargs.get("port", 6379)
    return f"{scheme}://{host}:{port}/{kwargs.get('db', 0)}"


def check_server(client: redis.Redis, where: str) -> tuple[int, ...]:
    """Refuse a server too old, or one that may evict keys (an evicted key is a lost job);
    returns its version."""
    try:
        server = client.info("server")
        memory = client.info("memory")
    except rx.RedisError as exc:
        raise BackendUnavailable(f"Redis at {where} cannot be reached: {exc}") from exc
    version = tuple(int(p) for p in str(server.get("redis_version", "0.0")).split(".")[:2])
    if version < MIN_VERSION:
        raise ConfigurationError(
            f"Redis at {where} is version {server.get('redis_version')}; zerog needs "
            f"{'.'.join(map(str, MIN_VERSION))} or later"
        )
    policy = str(memory.get("maxmemory_policy", "noeviction"))
    if policy != "noeviction":
        raise ConfigurationError(
            f"Redis at {where} may evict keys (maxmemory-policy is {policy!r}), and an "
            f"evicted key is a lost job: zerog stores jobs only where nothing is evicted. "
            f"Run `CONFIG SET maxmemory-policy noeviction` on it (and set "
            f"`maxmemory-policy noeviction` in its redis.conf so that it stays), or give "
            f"zerog a Redis of its own"
        )
    return version


def use_functions(options: Options, version: tuple[int, ...], where: str) -> bool:
    """Whether to run the code as functions (see _scripts.py)."""
    if options.scripts == "function" and version < FUNCTIONS_VERSION:
        raise ConfigurationError(f"Redis at {where} is too old for ?scripts=function (7.0 on)")
    return options.scripts != "eval" and version >= FUNCTIONS_VERSION


def server_offset(client: redis.Redis) -> float:
    """The server's clock minus this host's, from the quickest of three TIME calls."""
    best: tuple[float, float] | None = None
    for _ in range(3):
        before = time.time()
        seconds, micros = client.time()
        after = time.time()
        rtt = after - before
        offset = seconds + micros / 1e6 - (before + after) / 2
        if best is None or rtt < best[0]:
            best = (rtt, offset)
    assert best is not None
    return best[1]
