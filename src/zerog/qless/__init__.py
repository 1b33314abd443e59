"""The qless face: ``from zerog import qless`` runs qless-py's examples on any zerog store.

    from zerog import qless

    client = qless.client("sqlite:///jobs.db")      # or qless.client(): ZEROG_URL
    jid = client.queues["underpants"].put(gnomes.GnomesJob, {"count": 3})
    job = client.queues["underpants"].pop()
    job.complete("unknown")                        # or `zerog worker -q underpants ...`

Jobs are stored as zerog jobs of kind ``qless`` (type: the class's dotted path), so
``zerog worker`` runs them beside job classes and deferred functions, and the dashboard, CLI
and HTTP API show them. ``client(host=..., port=...)`` means zerog's Redis store on that
server, as qless's client means qless's.
"""

from __future__ import annotations

import importlib
import logging
from types import ModuleType

from zerog.qless import exceptions
from zerog.qless.client import Client, Jobs, Queues, Workers, client
from zerog.qless.config import Config
from zerog.qless.decorators import retry
from zerog.qless.events import Events
from zerog.qless.exceptions import LostLockError, LostLockException, QlessError, QlessException
from zerog.qless.job import BaseJob, Job
from zerog.qless.queue import Queue
from zerog.qless.recurring import RecurringJob
from zerog.qless.runjob import QlessRunJob  # registers the kind of qless jobs (zerog.kinds).

logger = logging.getLogger("zerog.qless")
"""qless-py's ``qless.logger``: the parent of the face's loggers (``zerog.qless.job``, ...)."""


def __getattr__(name: str) -> ModuleType:
    """``qless.gnomes`` (the README's example module), imported when first used."""
    if name == "gnomes":
        return importlib.import_module("zerog.qless.gnomes")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "BaseJob",
    "Client",
    "Config",
    "Events",
    "Job",
    "Jobs",
    "LostLockError",
    "LostLockException",
    "QlessError",
    "QlessException",
    "QlessRunJob",
    "Queue",
    "Queues",
    "RecurringJob",
    "Workers",
    "client",
    "exceptions",
    "logger",
    "retry",
]
