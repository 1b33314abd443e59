"""qless's ``client.config``: the store's shared config keys as a dict.

Reading a key gives what was set, else its default (``heartbeat`` 60, ``jobs-history``,
``jobs-history-count``, ``stats-history``, ``histogram-history``, ...: see
:mod:`zerog.config`), else None. Setting or deleting one changes it for every process that
shares the store. Reads are fresh: no cache between a ``set`` here and a read elsewhere.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from zerog import config as configuration
from zerog.store import Store


class Config:
    """The shared config, dict-like."""

    def __init__(self, store: Store) -> None:
        self._store = store

    @property
    def all(self) -> dict[str, Any]:
        """Every key: the defaults overlaid with what was set."""
        return configuration.effective(self._store.config(fresh=True))

    def __getitem__(self, key: str) -> Any:
        return self.all.get(key)

    def __setitem__(self, key: str, value: Any) -> None:
        self._store.set_config(key, value)

    def __delitem__(self, key: str) -> None:
        """Unset a key: it reads as its default (or None) again."""
        self._store.set_config(key, None)

    def __contains__(self, key: object) -> bool:
        return key in self.all

    def __iter__(self) -> Iterator[str]:
        return iter(self.all)

    def __len__(self) -> int:
        return len(self.all)

    def __repr__(self) -> str:
        return f"<qless Config {self.all!r}>"

    def get(self, key: str, default: Any = None) -> Any:
        """A key's value, or ``default`` when it has none."""
        value = self[key]
        return default if value is None else value

    def pop(self, key: str, default: Any = None) -> Any:
        """Unset a key, returning the value it had (or ``default``)."""
        value = self.get(key, default)
        del self[key]
        return value

    def update(self, other: Mapping[str, Any] | None = None, **kwargs: Any) -> None:
        """Set several keys."""
        for key, value in {**dict(other or {}), **kwargs}.items():
            self[key] = value

    def clear(self) -> None:
        """Unset every key that was set (defaults stay)."""
        for key in self._store.config(fresh=True):
            del self[key]

    def keys(self) -> list[str]:
        """Every key."""
        return list(self.all)

    def values(self) -> list[Any]:
        """Every value."""
        return list(self.all.values())

    def items(self) -> list[tuple[str, Any]]:
        """Every key and value."""
        return list(self.all.items())
