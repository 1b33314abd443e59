"""Deferred calls as JSON: a function named by its dotted path, its arguments tagged JSON.

deferrable pickled the function and its arguments; zerog never pickles. A function is found
again by ``module:qualname``, so the one deferred must be importable by that name: a function
defined inside another can be decorated (deferrable allows that too) but not deferred, and
``.later()`` says so. Arguments travel as tagged JSON (:mod:`zerog.deferrable.codec`); one that
cannot fails at ``.later()``, naming the argument, before anything is queued.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from zerog.deferrable import codec
from zerog.errors import ConfigurationError, NotSerializable


def function_path(function: Callable[..., Any]) -> str:
    """``module:qualname`` of a function."""
    module = getattr(function, "__module__", None) or "__main__"
    return f"{module}:{getattr(function, '__qualname__', repr(function))}"


def check_importable(path: str) -> None:
    """Refuse to defer a function no worker could import by its path (a lambda, a function
    defined inside another): NotSerializable, as pickle refuses those too."""
    if "<lambda>" in path or "<locals>" in path:
        raise NotSerializable(
            f"{path} cannot be deferred: define it at module level, so that the process "
            "that runs it can import it (deferrable needs the same: pickle refuses it)"
        )


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
    """Refuse arguments that tagged JSON cannot hold, naming the first such argument."""
    for number, value in enumerate(args, start=1):
        codec.encode(value, f"argument {number} of {path}")
    for key, value in kwargs.items():
        codec.encode(value, f"keyword argument {key!r} of {path}")


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
