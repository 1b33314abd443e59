"""Which job class runs which job type.

Job classes register themselves when their class is created (any subclass of BaseJob with a
``JOB_TYPE``). ``JOB_MODULES`` lists the modules that define them, imported by workers and
the server before they look a type up; the seeds extend it by reassignment::

    zerog.registry.JOB_MODULES = zerog.registry.JOB_MODULES + ["zerog.examples"]
"""

from __future__ import annotations

import importlib
import threading
from typing import TYPE_CHECKING

from zerog.errors import ConfigurationError, UnknownJobType

if TYPE_CHECKING:
    from zerog.jobs import BaseJob

JOB_MODULES: list[str] = []
"""Modules that define job classes; read at lookup time, so reassigning it works."""

_classes: dict[str, type[BaseJob]] = {}
_imported: set[str] = set()
_lock = threading.RLock()


def register(cls: type[BaseJob]) -> None:
    """Make ``cls`` the class of its ``JOB_TYPE`` (a later definition replaces an earlier one,
    which is what a reloaded module wants)."""
    with _lock:
        _classes[cls.JOB_TYPE] = cls


def import_job_modules(extra: list[str] | tuple[str, ...] = ()) -> None:
    """Import every module of ``JOB_MODULES`` (and ``extra``) not imported yet."""
    for name in [*JOB_MODULES, *extra]:
        with _lock:
            if name in _imported:
                continue
        try:
            importlib.import_module(name)
        except ImportError as exc:
            raise ConfigurationError(f"cannot import job module {name!r}: {exc}") from exc
        with _lock:
            _imported.add(name)


def job_class(job_type: str) -> type[BaseJob]:
    """The class registered for ``job_type``; imports ``JOB_MODULES`` first if needed."""
    with _lock:
        cls = _classes.get(job_type)
    if cls is None:
        import_job_modules()
        with _lock:
            cls = _classes.get(job_type)
    if cls is None:
        raise UnknownJobType(job_type, known_types())
    return cls


def known_types() -> list[str]:
    """Every registered job type, sorted."""
    with _lock:
        return sorted(_classes)
