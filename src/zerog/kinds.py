"""How each kind of stored job loads as something a worker can run: the faces register, the
core and the runtime look up.

A record says which face made it (``kind``: ``class`` for job classes, ``function`` for
deferred calls, ``qless`` for qless jobs). The core knows none of the faces; each face
registers its loader when it is imported, and the runtime (worker, ``zerog.testing``) imports
every face, so that one worker runs jobs of every kind from one queue.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from zerog.errors import UnknownJobType
from zerog.model import Record

Loader = Callable[[Record], Any]
"""Rebuilds a runnable job (its fields, its status) from its record."""

_LOADERS: dict[str, Loader] = {}


def register(kind: str, loader: Loader) -> None:
    """Make ``loader`` the way records of ``kind`` load (a face calls this at import)."""
    _LOADERS[kind] = loader


def load(record: Record) -> Any:
    """The runnable job of a record, by its kind; UnknownJobType when no face imported in
    this process loads that kind."""
    kind = record.get("kind") or "class"
    loader = _LOADERS.get(kind)
    if loader is None:
        raise UnknownJobType(
            str(record.get("type")),
            [],
            f"no face in this process loads jobs of kind {kind!r}: import the one that made "
            "it (zerog.deferrable for functions, zerog.qless for qless jobs)",
        )
    return loader(record)


def known() -> frozenset[str]:
    """The kinds that load in this process."""
    return frozenset(_LOADERS)
