"""Small disks of the tests' own: a tmpfs mounted for a test, to fill up or to freeze files.

The tests run as root (as `make test` does), so a full disk or an immutable file is the way to
make a store that cannot be written (plain file permissions do not stop root)."""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Iterator
from pathlib import Path

MOUNT_BYTES = 4 << 20  # small enough to fill in a moment.


@contextlib.contextmanager
def small_disk(where: Path) -> Iterator[Path]:
    """A 4 MiB tmpfs mounted at ``where`` (made) for the block, unmounted after."""
    where.mkdir(parents=True, exist_ok=True)
    mount = ["mount", "-t", "tmpfs", "-o", f"size={MOUNT_BYTES}", "tmpfs", str(where)]
    subprocess.run(mount, check=True)
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def fill(disk: Path) -> Path:
    """Write a file until the disk is full; returns it (delete it to free the space)."""
    filler = disk / "filler"
    with filler.open("wb") as handle, contextlib.suppress(OSError):
        while True:
            handle.write(b"\\0" * 65536)
            handle.flush()
    return filler
