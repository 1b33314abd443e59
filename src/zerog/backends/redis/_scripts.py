"""The Lua scripts: read from the package, sent to Redis once, then run by their SHA1.

Each script in ``lua/`` names the libraries it needs on its ``-- needs:`` line; the loader
puts them in front of it (``lua/lib/``, in that order), so that every script is one
self-contained program whose SHA1 Redis caches. A script is run with EVALSHA; a server that
does not know it (restarted, or its cache flushed with SCRIPT FLUSH) answers NOSCRIPT, and it
is loaded again and run.

A lost connection, a server still loading its data after a restart, or one turned read-only
by a failover are retried for :data:`RETRY_SECONDS`, then :class:`BackendUnavailable` says
what failed. A write sent again after its reply was lost is safe: each is idempotent
(a lease already settled is reported lost, a uuid already put is refused), and the two
writes of the hot path (put, settle_batch) carry a nonce under which their first reply is
kept, so that the second gets it (see ``lua/lib/core.lua``).
"""

from __future__ import annotations

import hashlib
import random
import re
import time
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
_NEEDS = re.compile(r"^-- needs:(.*)$", re.MULTILINE)
_TRANSIENT = (rx.ConnectionError, rx.TimeoutError, rx.BusyLoadingError, rx.ReadOnlyError)


@dataclass(frozen=True)
class Script:
    """One script as Redis runs it: its libraries and itself, and that text's SHA1."""

    name: str
    source: str
    sha: str


def load_scripts() -> dict[str, Script]:
    """Every script of the package, by name (the file's name without ``.lua``)."""
    folder = resources.files("zerog.backends.redis").joinpath("lua")
    libs = {
        entry.name[:-4]: entry.read_text(encoding="utf-8")
        for entry in folder.joinpath("lib").iterdir()
        if entry.name.endswith(".lua")
    }
    scripts = {}
    for entry in folder.iterdir():
        if not entry.name.endswith(".lua"):
            continue
        own = entry.read_text(encoding="utf-8")
        found = _NEEDS.search(own)
        needs = found.group(1).split() if found else []
        source = "\n".join([*(libs[name] for name in needs), own])
        sha = hashlib.sha1(source.encode()).hexdigest()
        scripts[entry.name[:-4]] = Script(entry.name[:-4], source, sha)
    return scripts


_SCRIPTS: dict[str, Script] | None = None


def scripts() -> dict[str, Script]:
    """The package's scripts, read once per process."""
    global _SCRIPTS
    if _SCRIPTS is None:
        _SCRIPTS = load_scripts()
    return _SCRIPTS


class Runner:
    """Runs the scripts on one client: the store's root key and the common arguments (the
    time to use, the history cap) first, then each script's own."""

    def __init__(
        self,
        client: redis.Redis,
        root: str,
        now: Callable[[], str],
        history_cap: Callable[[], int],
        where: str,
    ) -> None:
        self.client = client
        self.root = root
        self._now = now
        self._cap = history_cap
        self.where = where
        self.reloads = 0  # how many times a script was loaded again after NOSCRIPT.
        self.retries = 0  # how many calls were sent again after a transient failure.

    def run(self, name: str, *args: Any) -> Any:
        """Run script ``name`` with its own arguments; its raw reply."""
        script = scripts()[name]
        argv = (self._now(), self._cap(), *args)

        def once() -> Any:
            try:
                return self.client.evalsha(script.sha, 1, self.root, *argv)
            except rx.NoScriptError:
                self.client.script_load(script.source)
                self.reloads += 1
                return self.client.evalsha(script.sha, 1, self.root, *argv)

        return self.call(once, name)

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
