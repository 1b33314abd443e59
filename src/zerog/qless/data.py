"""qless job data as zerog values, and job classes ("klasses") as dotted paths.

A zerog job's values are a JSON object; qless data may be any JSON value. A dict is stored
as it is (so the dashboard, the CLI and the HTTP API show it plainly); anything else is kept
under one reserved key. A klass is stored the way qless stores it, ``module.ClassName``, and
imported again by the process that runs the job: never pickled.
"""

from __future__ import annotations

import importlib
from typing import Any

DATA_KEY = "__qless_data__"  # holds qless data that is not a JSON object.


def to_values(data: Any) -> dict[str, Any]:
    """The zerog values that keep ``data``."""
    if isinstance(data, dict) and set(data) != {DATA_KEY}:
        return data
    return {DATA_KEY: data}


def from_values(values: dict[str, Any]) -> Any:
    """The qless data kept in zerog ``values``."""
    if set(values) == {DATA_KEY}:
        return values[DATA_KEY]
    return values


def class_string(klass: type | str) -> str:
    """``module.ClassName`` of a job class (a string is taken as such a path already).

    A class defined inside a function can never be imported by a worker, so it is refused
    here, before anything is stored, rather than failing every run."""
    if isinstance(klass, str):
        if not klass:
            raise ValueError("a job class path is a non-empty string like 'module.ClassName'")
        return klass
    qualname = getattr(klass, "__qualname__", "")
    module = getattr(klass, "__module__", None)
    if not module or not qualname or "<locals>" in qualname:
        raise ValueError(
            f"{klass!r} cannot be a job class: define it at module level, so that the worker "
            "can import it (qless stores it as 'module.ClassName')"
        )
    return f"{module}.{qualname}"


def import_klass(path: str) -> Any:
    """The class a ``module.ClassName`` path names (nested classes too).

    Raises ImportError naming the path when no module prefix imports or the rest is missing.
    """
    parts = path.split(".")
    problem: Exception | None = None
    for cut in range(len(parts) - 1, 0, -1):
        module_name = ".".join(parts[:cut])
        try:
            target: Any = importlib.import_module(module_name)
        except ImportError as exc:
            if not _is_missing(exc, module_name):  # it exists but failed: say so.
                raise ImportError(f"cannot import job class {path!r}: {exc}") from exc
            problem = problem or exc
            continue
        try:
            for name in parts[cut:]:
                target = getattr(target, name)
        except AttributeError as exc:
            raise ImportError(f"cannot import job class {path!r}: {exc}") from exc
        return target
    raise ImportError(f"cannot import job class {path!r}: {problem or 'not a dotted path'}")


def _is_missing(exc: ImportError, module_name: str) -> bool:
    """Whether the import failed because ``module_name`` (or a parent) does not exist."""
    missing = exc.name
    return missing is not None and (module_name == missing or module_name.startswith(missing + "."))
