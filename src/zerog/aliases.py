"""The seeds' module names, ``zeroG`` and ``geyser``, as aliases of ``zerog``.

``import zeroG`` (or ``geyser``) gives the ``zerog`` package itself, and ``import zeroG.jobs``
(or any ``zeroG.<module>``) the very ``zerog.<module>`` object: one module under two names, not a
second copy, so classes, registries and the process's store are shared. The modules
``src/zeroG.py`` and ``src/geyser.py`` only call :func:`install`.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
from collections.abc import Sequence
from types import ModuleType

TARGET = "zerog"


class AliasLoader(importlib.abc.Loader):
    """Loads ``<alias>.<name>`` as the already imported (or now imported) ``zerog.<name>``."""

    def __init__(self, target: str) -> None:
        self.target = target
        self.spec: importlib.machinery.ModuleSpec | None = None

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        module = importlib.import_module(self.target)
        self.spec = module.__spec__
        return module

    def exec_module(self, module: ModuleType) -> None:
        # Importing under the alias set the module's __spec__ to the alias's: put its own
        # back, so that reload() and tools that read it see zerog's module.
        module.__spec__ = self.spec


class AliasFinder(importlib.abc.MetaPathFinder):
    """Finds ``<alias>.<name>`` modules: each is ``zerog.<name>``."""

    def __init__(self, alias: str) -> None:
        self.alias = alias

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        if not fullname.startswith(self.alias + "."):
            return None
        real = TARGET + fullname[len(self.alias) :]
        return importlib.util.spec_from_loader(fullname, AliasLoader(real))


def install(alias: str) -> ModuleType:
    """Make ``alias`` (and its submodules) name ``zerog``'s; returns the zerog package."""
    package = importlib.import_module(TARGET)
    if not any(isinstance(f, AliasFinder) and f.alias == alias for f in sys.meta_path):
        sys.meta_path.insert(0, AliasFinder(alias))
    sys.modules[alias] = package
    return package
