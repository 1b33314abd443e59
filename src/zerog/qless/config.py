"""qless's ``client.config``: the store's shared config keys, dict-like, the way qless shows them.

``all`` lists qless's keys with their defaults (``application``, ``grace-period``,
``heartbeat``, ``histogram-history``, ``jobs-history``, ``jobs-history-count``,
``stats-history``) overlaid with every key that was set. As in qless, where set values live
in a Redis hash, a value that was set reads back as a string in ``all``, ``values()`` and
``items()``, while ``config[key]`` parses it (``config['heartbeat'] = '30'`` then
``config['heartbeat'] == 30``). Keys zerog uses besides (``max-job-history``,
``stall-seconds``: see :mod:`zerog.config`) keep their defaults unseen until set. Reads are
fresh: no cache between a ``set`` here and a read elsewhere.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from zerog import config as configuration
from zerog.store import Store

QLESS_DEFAULTS: dict[str, Any] = {
    "application": "qless",
    "grace-period": 10,  # qless: seconds between a lock's expiry and its job's retry.
    "heartbeat": configuration.DEFAULTS["heartbeat"],
    "histogram-history": configuration.DEFAULTS["histogram-history"],
    "jobs-history": configuration.DEFAULTS["jobs-history"],
    "jobs-history-count": configuration.DEFAULTS["jobs-history-count"],
    "stats-history": configuration.DEFAULTS["stats-history"],
}
"""qless's keys and defaults, as qless-core lists them."""


def parsed(value: Any) -> Any:
    """A value as qless reads one back: JSON if it is (``'5'`` is 5), else as it is."""
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def shown(value: Any) -> str:
    """A set value as qless's hash holds it: a string (``1`` is ``'1'``)."""
    if isinstance(value, str):
        return value
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return (
        json.dumps(value) if isinstance(value, list | dict | bool) or value is None else str(value)
    )


class Config:
    """The shared config, dict-like."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def _set(self) -> dict[str, Any]:
        return self._store.config(fresh=True)

    @property
    def all(self) -> dict[str, Any]:
        """Every key: qless's defaults overlaid with what was set (as strings)."""
        return {**QLESS_DEFAULTS, **{key: shown(value) for key, value in self._set().items()}}

    def __getitem__(self, key: str) -> Any:
        stored = self._set()
        if key in stored:
            return stored[key]
        return QLESS_DEFAULTS.get(key)

    def __setitem__(self, key: str, value: Any) -> None:
        """Set a key for every process sharing the store (a number given as a string is
        stored as the number: zerog's own keys must be numbers)."""
        self._store.set_config(key, parsed(value))

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
        for key in self._set():
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
