"""``sqlite://``: jobs in one SQLite file, shared by the processes of one machine."""

from zerog.backends.sqlite.backend import SqliteBackend

__all__ = ["SqliteBackend"]
