"""``sqlite://``: jobs in one SQLite file, shared by the processes of one machine.

The package's step modules are shared with the PostgreSQL backend (through
:mod:`zerog.backends._sql_backend`), which imports them without the SQLite backend itself:
``SqliteBackend`` is imported on first use, so that neither package's import needs the other's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from zerog.backends.sqlite.backend import SqliteBackend


def __getattr__(name: str) -> Any:
    if name == "SqliteBackend":
        from zerog.backends.sqlite.backend import SqliteBackend

        return SqliteBackend
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["SqliteBackend"]
