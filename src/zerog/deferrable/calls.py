"""Deferred calls as JSON: a function named by its dotted path, its arguments as JSON.

deferrable pickled the function and its arguments; zerog never pickles. A function is found
again by ``module:qualname``, so it must be defined at module level (no lambdas, no nested
functions), and arguments must be JSON: anything else fails at ``.later()`` with a message that
names the argument, before anything is queued.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable
from typing import Any

from zerog.errors import ConfigurationError, NotSerializable


def function_path(function: Callable[..., Any]) -> str:
    """``module:qualname`` of a module-level function; refuses lambdas and nested ones."""
    qualname = getattr(function, "__qualname__", "")
    module = getattr(function, "__module__", None)
    if not module or not qualname or "<lambda>" in qualname or "<locals>" in qualname:
        raise ValueError(
            f"{qualname or function!r} cannot be deferred: deferred functions must be defined "
            "at module level (not a lambda or a nested function), so a worker can import them"
        )
    return f"{module}:{qualname}"


def resolve(path: str) -> Callable[..., Any]:
    """The function a ``module:qualname`` path names."""
    module_name, _, qualname = path.partition(":")
    try:
        target: Any = importlib.import_module(module_name)
        for part in qualname.split("."):
            target = getattr(target, part)
    except (ImportError, AttributeError) as exc:
        raise ConfigurationError(f"cannot find the deferred function {path!r}: {exc}") from exc
    if not callable(target):
        raise ConfigurationError(f"{path!r} is not callable")
    return target  # type: ignore[no-any-return]


def check_arguments(path: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    """Refuse arguments that are not JSON, naming the first such argument."""
    named = [(f"argument {n}", value) for n, value in enumerate(args, start=1)]
    named += [(f"keyword argument {key!r}", value) for key, value in kwargs.items()]
    for label, value in named:
        try:
            json.dumps(value, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise NotSerializable(
                f"{label} of {path} ({type(value).__name__}) cannot be stored as JSON: {exc}; "
                "pass ids or plain data instead"
            ) from exc


def class_path(cls: type) -> str:
    """``module:qualname`` of an exception class, to store error_classes as JSON."""
    return f"{cls.__module__}:{cls.__qualname__}"


def resolve_classes(paths: list[str]) -> tuple[type[BaseException], ...]:
    """The exception classes stored paths name (unknown ones are left out)."""
    found = []
    for path in paths:
        try:
            found.append(resolve(path))
        except ConfigurationError:
            continue
    return tuple(cls for cls in found if isinstance(cls, type) and issubclass(cls, BaseException))
