"""qless's exceptions, under qless-py's names: they are zerog's.

``QlessException`` is what qless raises for any refused command; here it is zerog's root error,
so ``except QlessException`` catches what zerog refuses. ``LostLockException`` is raised once a
job's lock is gone (completed, failed, retried, timed out, cancelled or given to another
worker): zerog's LostLockError.
"""

from __future__ import annotations

from zerog.errors import LostLockError, ZerogError

QlessException = ZerogError
QlessError = ZerogError  # qless-py's later name.
LostLockException = LostLockError

__all__ = ["LostLockError", "LostLockException", "QlessError", "QlessException"]
