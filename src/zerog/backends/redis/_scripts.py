"""The Lua code: read from the package, sent to Redis once, then run by name.

Each script in ``lua/`` names the libraries it needs on its ``-- needs:`` line. The same code
runs in one of two ways, both loaded once per server:

- **functions** (Redis 7 and later, the default there): every library and every script, each
  script's body the callback of a function ``zerog_<version>_<script>``, are one Redis
  function library, loaded with FUNCTION LOAD and run with FCALL. The libraries' helpers are
  made once, at load, instead of at every call: a script of a few commands costs a fraction
  of what it costs through EVALSHA. A server that lost the library (restarted without
  persistence, or flushed) answers "Function not found", and it is loaded again.
- **scripts** (Redis 6, or ``?scripts=eval``): each script is one program, its libraries in
  front of it, run with EVALSHA by its SHA1; a server that does not know it (restarted, or its
  cache flushed with SCRIPT FLUSH) answers NOSCRIPT, and it is loaded again and run.

Either way a call is ``begin(KEYS, ARGV)`` (lua/lib/core.lua: the store's root, the time,
the history cap) and then the script's body.

A lost connection, a server still loading its data after a restart, or one turned read-only
by a failover are retried for :data:`RETRY_SECONDS`, then :class:`BackendUnavailable` says
what failed. A write sent again after its reply was lost is safe: each is idempotent
(a lease already settled is reported lost, a uuid already put is refused), and the two
writes of the hot path (put, settle_batch) carry a nonce under which their first reply is
kept, so that the second gets it (see ``lua/lib/core.lua``).
"""

from __future__ import annotations

import hashlib
import os
import random
import re
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from typing import Any

import redis
import redis.exceptions as rx

from zerog.errors import BackendError, BackendUnavailable

RETRY_SECONDS = 10.0  # transient failures are retried this long.
FIRST_PAUSE_SECONDS = 0.02
PAUSE_CAP_SECONDS = 1.0
LIBRARY_ORDER = ("core", "jobs", "put", "cron", "claim", "progress", "operate")
_NEEDS = re.compile(r"^-- needs:(.*)$", re.MULTILINE)
_TRANSIENT = (rx.ConnectionError, rx.TimeoutError, rx.BusyLoadingError, rx.ReadOnlyError)


@dataclass(frozen=True)
class Script:
    """One script: as EVALSHA runs it (its libraries, begin, its body) and that text's SHA1;
    and the name of its function in the library."""

    name: str
    source: str
    sha: str
    function: str


@dataclass(frozen=True)
class Code:
    """Every script of the package, and the function library made of them all."""

    scripts: dict[str, Script]
    library_name: str
    library: str


def _read() -> tuple[dict[str, str], dict[str, str]]:
    """The libraries and the scripts' bodies, by name."""
    folder = resources.files("zerog.backends.redis").joinpath("lua")
    libs = {
        entry.name[:-4]: entry.read_text(encoding="utf-8")
        for entry in folder.joinpath("lib").iterdir()
        if entry.name.endswith(".lua")
    }
    bodies = {
        entry.name[:-4]: entry.read_text(encoding="utf-8")
        for entry in folder.iterdir()
        if entry.name.endswith(".lua")
    }
    return libs, bodies


def load_code() -> Code:
    """The scripts and the library, from the package's files."""
    libs, bodies = _read()
    version = hashlib.sha1(
        "\n".join(libs[n] for n in LIBRARY_ORDER).encode()
        + "\n".join(f"{k}\n{v}" for k, v in sorted(bodies.items())).encode()
    ).hexdigest()[:12]
    library_name = f"zerog_{version}"
    scripts = {}
    registered = []
    for name, body in sorted(bodies.items()):
        found = _NEEDS.search(body)
        needs = found.group(1).split() if found else []
        source = "\n".join([*(libs[n] for n in needs), "begin(KEYS, ARGV)", body])
        function = f"{library_name}_{name}"
        sha = hashlib.sha1(source.encode()).hexdigest()
        scripts[name] = Script(name, source, sha, function)
        registered.append(
            f"redis.register_function('{function}', function(KEYS, ARGV)\n"
            f"begin(KEYS, ARGV)\n{body}\nend)"
        )
    library = "\n".join(
        [f"#!lua name={library_name}", *(libs[n] for n in LIBRARY_ORDER), *registered]
    )
    return Code(scripts, library_name, library)


_CODE: Code | None = None


def code() -> Code:
    """The package's Lua code, read once per process."""
    global _CODE
    if _CODE is None:
        _CODE = load_code()
    return _CODE


def scripts() -> dict[str, Script]:
    """The package's scripts, by name (the file's name without ``.lua``)."""
    return code().scripts


class Runner:
    """Runs the scripts on one client, as functions or as scripts (see the module's
    docstring): the store's root key and the common arguments (the time to use, the history
    cap) first, then each script's own."""

    def __init__(
        self,
        client: redis.Redis,
        root: str,
        now: Callable[[], str],
        history_cap: Callable[[], int],
        where: str,
        functions: bool,
    ) -> None:
        self.client = client
        self.root = root
        self._now = now
        self._cap = history_cap
        self.where = where
        self.functions = functions
        self.reloads = 0  # how many times the code was loaded again (NOSCRIPT, no function).
        self.retries = 0  # how many calls were sent again after a transient failure.
        self._held = threading.local()  # each thread's own connection (see _send).
        pool = client.connection_pool
        plain = type(pool) is redis.ConnectionPool  # not a blocking or a sentinel's pool.
        self._spare = [pool.max_connections // 2 if plain else 0]  # what threads may keep.

    def run(self, name: str, *args: Any, sent: list[int] | None = None) -> Any:
        """Run script ``name`` with its own arguments; its raw reply. ``sent`` (when given)
        gets one item per time the call was sent: more than one, and the first may have
        been done (its reply lost)."""
        script = scripts()[name]
        argv = (self._now(), self._cap(), *args)
        once = self._fcall if self.functions else self._evalsha

        def send() -> Any:
            if sent is not None:
                sent.append(1)
            return once(script, argv)

        return self.call(send, name)

    def _evalsha(self, script: Script, argv: tuple[Any, ...]) -> Any:
        try:
            return self._send("EVALSHA", script.sha, 1, self.root, *argv)
        except rx.NoScriptError:
            self.client.script_load(script.source)
            self.reloads += 1
            return self._send("EVALSHA", script.sha, 1, self.root, *argv)

    def _fcall(self, script: Script, argv: tuple[Any, ...]) -> Any:
        try:
            return self._send("FCALL", script.function, 1, self.root, *argv)
        except rx.ResponseError as exc:
            text = str(exc).lower()
            if "unknown command" in text or "noperm" in text:
                return self._fall_back(script, argv)  # a server (or a user) without FCALL.
            if "function not found" not in text:
                raise
        try:
            self.load_library()
        except rx.ResponseError:  # FUNCTION LOAD refused (ACLs, a managed service): scripts.
            return self._fall_back(script, argv)
        return self._send("FCALL", script.function, 1, self.root, *argv)

    def _send(self, *args: Any) -> Any:
        """One command's raw reply, on the calling thread's own connection: a script's
        round trip without redis-py's per-command pool checkout, liveness poll and release
        (most of a put's client time). The connection is taken from the client's pool at
        the thread's first script and given back when the thread ends; a reply that failed
        midway disconnects it (redis-py's read does), and the next call reconnects. A pool
        that is bounded, or not redis-py's plain one, is used as redis-py uses it."""
        held = self._held.__dict__.get("connection")
        if held is None or held[0] != os.getpid():  # a forked child takes its own.
            held = self._take()
            if held is None:
                return self.client.execute_command(*args)  # type: ignore[no-untyped-call]
        conn = held[1]
        try:
            conn.send_packed_command(conn.pack_command(*args), check_health=False)
            return conn.read_response()
        except rx.ResponseError:
            raise  # the script's error: the connection is in step.
        except BaseException:
            conn.disconnect()  # a reply half read or a send cut: start afresh next time.
            raise

    def _take(self) -> tuple[int, Any] | None:
        """A connection of the pool for this thread, given back when the thread ends; None
        when threads keep half the pool already (the rest is for the others, taken and
        given back at each command)."""
        with _SPARE_LOCK:
            if self._spare[0] <= 0:
                return None
            self._spare[0] -= 1
        pool = self.client.connection_pool
        try:
            conn = pool.get_connection()
        except BaseException:
            _give_back(None, None, 0, self._spare)
            raise
        held = (os.getpid(), conn)
        token = _Holder()
        weakref.finalize(token, _give_back, pool, conn, held[0], self._spare)
        self._held.__dict__.update(connection=held, token=token)
        return held

    def _fall_back(self, script: Script, argv: tuple[Any, ...]) -> Any:
        """Run the code as EVALSHA scripts from now on."""
        self.functions = False
        return self._evalsha(script, argv)

    def load_library(self) -> None:
        """Load (or load again) the function library on the server."""
        self.client.function_load(code().library, replace=True)
        self.reloads += 1

    def call(self, command: Callable[[], Any], what: str = "a command") -> Any:
        """Run ``command`` (a script, or a plain command: a read, or a write that changes
        no job), retrying transient failures."""
        deadline = time.monotonic() + RETRY_SECONDS
        pause = FIRST_PAUSE_SECONDS
        while True:
            try:
                return command()
            except _TRANSIENT as exc:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise BackendUnavailable(
                        f"Redis at {self.where} kept failing for {RETRY_SECONDS:g} s "
                        f"({exc}); is the server up?"
                    ) from exc
                self.retries += 1
                time.sleep(min(left, pause * random.uniform(0.5, 1.5)))
                pause = min(PAUSE_CAP_SECONDS, pause * 2)
            except rx.RedisError as exc:
                raise BackendError(f"Redis at {self.where} failed running {what}: {exc}") from exc


class _Holder:
    """Lives as long as a thread's connection is its own (in the thread's local data)."""


_SPARE_LOCK = threading.Lock()


def _give_back(pool: redis.ConnectionPool | None, conn: Any, pid: int, spare: list[int]) -> None:
    """Return a thread's connection to its pool once the thread ended (not in a forked
    child: the pool is the parent's there, and resets itself)."""
    with _SPARE_LOCK:
        spare[0] += 1
    if pool is not None and os.getpid() == pid:
        pool.release(conn)
