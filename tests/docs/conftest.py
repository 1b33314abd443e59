"""Fixtures of the docs tests."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture
def short_dir() -> Iterator[Path]:
    """An empty directory with a short path. SQLite's doorbell sockets live beside the
    database, and a Unix socket's path may not exceed 107 bytes: pytest's tmp_path can."""
    where = Path(tempfile.mkdtemp(prefix="zt-"))
    try:
        yield where
    finally:
        shutil.rmtree(where, ignore_errors=True)
