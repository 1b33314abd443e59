"""Reload a job's module when its file changed: the next job of that type runs the new code.

qless-py's promise, kept without restarting the worker: before a job is built from its
record, :meth:`Reloader.refresh` compares the file of the module that defines the job's class
with what it was when first seen (modification time and size). If it changed, the module is
reloaded; its classes register themselves again under their ``JOB_TYPE``, replacing the old
ones (see :mod:`zerog.registry`). Runs already going keep the class they started with.

The first sighting is the baseline, so a supervisor takes a :meth:`Reloader.snapshot` right
after importing the job modules and before forking: a child started later still sees a file
edited in between as changed. Only the module defining the class is reloaded (not modules it
imports), as with ``importlib.reload``. A module that fails to reload (a syntax error half-way
through an edit) is logged and its old code kept until the file changes again.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import logging
import os
import sys
import threading
from types import ModuleType

from zerog import registry
from zerog.errors import ZerogError

log = logging.getLogger(__name__)

Stamp = tuple[int, int]  # the file's modification time (ns) and size.


class Reloader:
    """Watches the files of job modules, one stat per job run."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stamps: dict[str, Stamp | None] = {}
        self._paths: dict[str, str | None] = {}

    def snapshot(self) -> None:
        """Take the baseline of every registered job type's module (those not seen yet)."""
        for job_type in registry.known_types():
            module = self._module_of(job_type)
            if module is not None:
                with self._lock:
                    self._stamps.setdefault(module.__name__, self._stamp(module))

    def refresh(self, job_type: str) -> bool:
        """Reload the module of ``job_type`` if its file changed; True if it was reloaded."""
        module = self._module_of(job_type)
        if module is None:
            return False
        with self._lock:
            stamp = self._stamp(module)
            known = self._stamps.setdefault(module.__name__, stamp)
            if stamp is None or stamp == known:
                return False
            self._stamps[module.__name__] = stamp
            return _reload(module, self._paths[module.__name__] or "", job_type)

    @staticmethod
    def _module_of(job_type: str) -> ModuleType | None:
        try:
            cls = registry.job_class(job_type)
        except ZerogError:
            return None  # an unknown type: building the job reports it.
        return sys.modules.get(cls.__module__)

    def _stamp(self, module: ModuleType) -> Stamp | None:
        """The module file's stamp; None for modules with no source file (built-in, frozen,
        compiled-only)."""
        name = module.__name__
        if name not in self._paths:
            source = getattr(module, "__file__", None)
            # Made absolute once: the process may later chdir into a job's sandbox.
            ok = isinstance(source, str) and source.endswith(".py")
            self._paths[name] = os.path.abspath(source) if ok and source else None
        path = self._paths[name]
        if path is None:
            return None
        try:
            status = os.stat(path)
        except OSError:
            return None  # being replaced, say; look again at the next job.
        return (status.st_mtime_ns, status.st_size)


def _reload(module: ModuleType, path: str, job_type: str) -> bool:
    # The cached bytecode is checked against the source's mtime in whole seconds and its
    # size: an edit within the same second that keeps the size would load the old code.
    with contextlib.suppress(OSError, NotImplementedError, ValueError):
        os.unlink(importlib.util.cache_from_source(path))
    try:
        importlib.reload(module)
    except Exception:
        log.exception("cannot reload %s (job type %s); keeping its old code", path, job_type)
        return False
    log.info(
        "reloaded %s: its file changed (job type %s)",
        module.__name__,
        job_type,
        extra={"event": "module.reloaded", "job_module": module.__name__},
    )
    return True
