"""``sqlite://``: jobs in one SQLite file, shared by the processes of one machine.

The SQLite dialect of the shared SQL engine (:mod:`zerog.backends.sql`): its connections and
write gate, the opening and migrating of a file, and its SQL files; the job logic is the
engine's. :func:`path_of` is public for callers that need a URL's file (the CLI makes a
relative one absolute before workers change directory).
"""

from zerog.backends.sqlite._open import path_of
from zerog.backends.sqlite.backend import SqliteBackend

__all__ = ["SqliteBackend", "path_of"]
