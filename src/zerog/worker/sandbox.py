"""Per-job scratch directories (``--workdir``), emptied before and after each job.

Each job slot of the pool has its own directory, ``<workdir>/zerog-workers/sandbox-<k>``, where
``k`` = process slot * threads + thread: no two jobs running at once share one, and a
replacement process reuses the slot's directory. It is emptied before a job starts (a crashed
run may have left files) and after it ends, so a job never sees another's files.

The working directory is process-wide. With one thread per process (qless-py's model), the
process moves into the sandbox for the job's run and back afterwards, so a job that writes
relative paths writes there. With several threads a ``chdir`` would move every job at once,
so the process stays where it is and jobs find their directory with :func:`current` (always
set, whatever the thread count).
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

log = logging.getLogger(__name__)

SANDBOXES_DIR = "zerog-workers"

_local = threading.local()


def current() -> Path | None:
    """The sandbox of the job this thread runs, or None (no ``--workdir``, or not in a job)."""
    path: Path | None = getattr(_local, "path", None)
    return path


class Sandboxes:
    """The sandbox directories of one worker process."""

    def __init__(self, workdir: str | os.PathLike[str], slot: int, threads: int) -> None:
        self.root = Path(workdir).resolve() / SANDBOXES_DIR
        self.first = slot * threads
        self.chdir = threads == 1

    def path(self, thread: int) -> Path:
        """The directory of this process's ``thread`` (0-based)."""
        return self.root / f"sandbox-{self.first + thread}"

    @contextlib.contextmanager
    def entered(self, thread: int) -> Iterator[Path]:
        """Run one job in the thread's sandbox: emptied before, entered if one thread,
        left and emptied after."""
        path = self.path(thread)
        _empty(path)
        path.mkdir(parents=True, exist_ok=True)
        home = os.getcwd() if self.chdir else None
        if home is not None:
            os.chdir(path)
        _local.path = path
        try:
            yield path
        finally:
            _local.path = None
            if home is not None:
                os.chdir(home)
            _empty(path)
            path.mkdir(parents=True, exist_ok=True)


def _empty(path: Path) -> None:
    """Remove the directory and everything in it; what cannot be removed is logged."""

    def report(function: object, name: str, info: tuple[type, BaseException, object]) -> None:
        log.warning("cannot clean the sandbox: %s: %s", name, info[1])

    if path.exists():
        shutil.rmtree(path, onerror=report)  # onerror: onexc only came in Python 3.12.
