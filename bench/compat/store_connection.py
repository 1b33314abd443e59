"""What the libraries' tests get where they opened a Redis connection: a zerog URL.

Copied next to the tests as ``zerog_compat_conn``. ``ZEROG_URL`` is the store under test (set by
``run_compat.py``). qless-py's ``common.py`` uses its connection for three things, each mapped
onto that store: ``keys('*')`` (what the store holds: jobs, recurring jobs, config keys set),
``flushdb()`` (forget everything: the process's store is closed and its file removed, so the
next ``qless.client()`` opens an empty one) and ``execute_command('script', 'flush')`` (zerog
has no scripts to flush: nothing to do).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import zerog
from zerog.store import MAX_PAGE, default_store

ZEROG_URL = os.environ["ZEROG_URL"]
SQLITE = "sqlite:///"  # then the path of the database file.


class StoreConnection:
    """The store at ``ZEROG_URL`` seen through the few Redis calls the tests make."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.url = ZEROG_URL

    def execute_command(self, *args: Any) -> None:
        """``SCRIPT FLUSH``: zerog loads no scripts into a server."""

    def keys(self, pattern: str = "*") -> list[str]:
        """Everything the store holds: job ids, recurring job ids and the config keys set."""
        store = default_store()
        found: list[str] = []
        cursor = None
        while True:
            page = store.list(limit=MAX_PAGE, cursor=cursor)
            found.extend(record["uuid"] for record in page.records)
            if page.cursor is None:
                break
            cursor = page.cursor
        found.extend(str(doc["id"]) for doc in store.recurrences())
        found.extend(store.config(fresh=True))
        return found

    def flushdb(self) -> None:
        """Forget the whole store: close the process's store and remove its file."""
        default_store().close()
        zerog.use(None)
        if self.url.startswith(SQLITE):
            path = self.url[len(SQLITE) :]
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
