"""qless's ``Job`` (and ``BaseJob``, what it shares with ``RecurringJob``): a job's data with
item access, its status, and what a worker does with it.

A Job is a snapshot of the stored job, read when it was popped or fetched, plus a
:mod:`hold <zerog.qless.hold>` that says what this client may do with its lock. ``process()``
runs the job the qless way: ``klass.<queue name>(job)`` if the class has such a method, else
``klass.process(job)``; a class that does not import, a missing method and an exception all
fail the job with a group (``<queue>-ImportError``, ``<queue>-method-missing``,
``<queue>-<ExceptionName>``) and keep its data, so nothing is lost and the cause is named.

A job's class is imported by its dotted path, and imported again when its module's file changed
since (qless-py's reload-on-change, so a worker picks up new code without a restart).
"""

from __future__ import annotations

import importlib
import logging
import os
import time
import traceback
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from zerog.errors import LostLockError
from zerog.model import FINAL_STATES, Change, Record, State
from zerog.qless.data import from_values, import_klass
from zerog.qless.failure import failure_of
from zerog.qless.hold import Hold, NoHold, retries_left_after_retry

if TYPE_CHECKING:
    from zerog.qless.client import Client
    from zerog.qless.queue import Queue
    from zerog.qless.recurring import RecurringJob

log = logging.getLogger(__name__)

HISTORY_WORDS = {"reserved": "popped", "completed": "done", "advanced": "done"}
"""zerog history events that qless names differently (``what`` in qless's history)."""


class Seconds(float):
    """A number of seconds that can also be called: qless-py's README calls ``job.ttl()``,
    its later versions read ``job.ttl``; both work."""

    def __call__(self) -> float:
        return float(self)


class BaseJob:
    """What a job and a recurring job share: a client, a jid, a class and a queue."""

    _loaded: ClassVar[dict[str, float]] = {}
    """When each job class was (re)imported, to reload it once its module's file changes."""

    client: Client
    jid: str
    klass_name: str
    queue_name: str

    @property
    def klass(self) -> Any:
        """The job's class, imported from ``klass_name`` (ImportError names it)."""
        return self._import(self.klass_name)

    @property
    def queue(self) -> Queue:
        """The job's queue."""
        return self.client.queues[self.queue_name]

    @staticmethod
    def reload(klass: str) -> None:
        """Import ``klass``'s module again at its next use (qless-py's)."""
        BaseJob._loaded[klass] = 0.0

    @staticmethod
    def _import(klass: str) -> Any:
        """The class a dotted path names; its module is reloaded first when its file changed
        since the class was last imported (a file whose time cannot be read is not)."""
        found = import_klass(klass)
        loaded = BaseJob._loaded.setdefault(klass, time.time())
        module = importlib.import_module(found.__module__)
        path = getattr(module, "__file__", None)
        try:
            changed = path is not None and os.stat(path).st_mtime > loaded
        except OSError:
            log.warning("cannot read the modification time of %s", path)
            return found
        if not changed:
            return found
        importlib.reload(module)
        BaseJob._loaded[klass] = time.time()
        return import_klass(klass)


class Job(BaseJob):
    """A qless job: ``job['key']`` reads and writes its data, ``job.complete()`` and friends
    act on it (see the module docstring)."""

    def __init__(self, client: Client, record: Record, hold: Hold) -> None:
        self.client = client
        self._hold = hold
        self.sandbox: str | None = None  # the directory the worker runs it in, if any.
        self._history: list[dict[str, Any]] | None = None
        self.jid: str = record["uuid"]
        self.klass_name: str = record["type"]
        self.queue_name: str = record["queue"]
        self.data: Any = from_values(record["values"])
        self.tags: list[str] = list(record.get("tags") or [])
        self._load_status(record)

    def _load_status(self, record: Record) -> None:
        self._priority: int = record["priority"]
        self.state: str = record["state"]
        self.tracked: bool = bool(record.get("tracked"))
        self.dependencies: list[str] = list(record.get("depends") or [])
        self.dependents: list[str] = list(record.get("dependents") or [])
        self.attempts: int = record.get("attempts") or 0
        self.original_retries: int = record["max_retries"]
        self.worker_name: str = record.get("worker") or ""
        self.expires_at: float = record.get("lease_expires_at") or 0.0
        self.failure: dict[str, Any] = failure_of(record)
        self.throttles: list[str] = list(record.get("throttles") or [])
        self.spawned_from_jid: str | None = record.get("recurrence")
        if "history" in record:
            self._history = [_qless_history(entry) for entry in record["history"]]

    # --- data and status -----------------------------------------------------------------

    def __getitem__(self, key: str) -> Any:
        """The data's ``key`` (None when missing). ``job['queue']``, when the data has no
        'queue', is the job's queue: the seed README's ``process`` example reads it so."""
        if key == "queue" and (not isinstance(self.data, dict) or "queue" not in self.data):
            return self.queue_name
        return self.data.get(key) if isinstance(self.data, dict) else None

    def __setitem__(self, key: str, value: Any) -> None:
        self.data[key] = value

    def __repr__(self) -> str:
        return f"<{self.klass_name} {self.jid}>"

    @property
    def priority(self) -> int:
        """Lower runs sooner; setting it re-queues a waiting job at its new place."""
        return self._priority

    @priority.setter
    def priority(self, value: int) -> None:
        self.client.store.alter(self.jid, Change(priority=value))
        self._priority = value

    @property
    def retries_left(self) -> int:
        """Retries left before the job fails (qless's ``remaining``)."""
        running = 1 if self.state == State.RUNNING else 0
        return retries_left_after_retry(self) + running

    @property
    def expires(self) -> float:
        """When the lock expires (seconds since the epoch); the seed README's name."""
        return self.expires_at

    @property
    def ttl(self) -> Seconds:
        """Seconds until the lock expires (``job.ttl`` or ``job.ttl()``)."""
        return Seconds(self.expires_at - self.client.store.clock())

    @property
    def history(self) -> list[dict[str, Any]]:
        """Everything that happened to the job, oldest first (read when first asked)."""
        if self._history is None:
            record = self.client.store.get(self.jid, history=True)
            self._history = [_qless_history(entry) for entry in record.get("history", [])]
        return self._history

    # --- running it ----------------------------------------------------------------------

    def process(self) -> None:
        """Run the job's method for its queue (or ``process``); failures fail the job."""
        try:
            klass = self.klass
        except Exception as exc:  # the class does not import: name it, keep the job.
            log.exception("cannot import %s for job %s", self.klass_name, self.jid)
            self._fail_quietly(
                f"{self.queue_name}-{type(exc).__name__}",
                f"Failed to import {self.klass_name}: {exc}",
            )
            return
        method = getattr(klass, self.queue_name, None) or getattr(klass, "process", None)
        if method is None:
            self._fail_quietly(
                f"{self.queue_name}-method-missing",
                f'{self.klass_name} is missing a method "{self.queue_name}" or "process"',
            )
        elif not callable(method):
            self._fail_quietly(f"{self.queue_name}-method-type", f"{method!r} is not callable")
        else:
            self._call(method)

    def _call(self, method: Callable[[Job], Any]) -> None:
        try:
            method(self)
        except Exception as exc:
            log.exception("job %s failed in %s", self.jid, self.queue_name)
            self._fail_quietly(f"{self.queue_name}-{type(exc).__name__}", traceback.format_exc())

    def _fail_quietly(self, group: str, message: str) -> None:
        try:
            self.fail(group, message)
        except LostLockError as exc:  # nothing to fail any more: someone else has the job.
            log.warning("job %s not failed (%s): %s", self.jid, group, exc)

    # --- what a worker does with it ------------------------------------------------------

    def heartbeat(self) -> float:
        """Renew the lock (saving the data); raises LostLockError once it is gone."""
        self.expires_at = self._hold.heartbeat(self)
        return self.expires_at

    def complete(
        self,
        next: str | None = None,
        delay: float | None = None,
        depends: Sequence[str] | None = None,
        *,
        nextq: str | None = None,
    ) -> str:
        """Done; or, with ``next`` (qless-py also says ``nextq``), done with this step: the
        job goes on in that queue (after ``delay``, or once ``depends`` complete)."""
        target = next if next is not None else nextq
        self.state = self._hold.complete(self, target, float(delay or 0), list(depends or ()))
        return self.state

    def fail(self, group: str, message: str) -> str:
        """Fail the job for good (until retried) with a group of similar failures and a
        message; returns its jid."""
        jid = self._hold.fail(self, str(group), str(message))
        self.state = State.FAILED.value
        return jid

    def retry(self, delay: float = 0, group: str | None = None, message: str | None = None) -> int:
        """Try again after ``delay`` seconds (a transient failure); the job fails once its
        retries are used up. Returns the retries left."""
        left = self._hold.retry(self, float(delay), group, message)
        self.state = State.WAITING.value if left >= 0 else State.FAILED.value
        return left

    def cancel(self) -> list[str]:
        """Cancel the job: it will not run (again)."""
        self._hold.cancel(self)
        self.state = State.CANCELLED.value
        return [self.jid]

    def move(self, queue: str, delay: float = 0, depends: Sequence[str] | None = None) -> str:
        """Put the job in another queue. A job this client runs moves on like
        ``complete(queue)``; a failed or cancelled one is retried there."""
        store = self.client.store
        if self.state == State.RUNNING and not isinstance(self._hold, NoHold):
            return self.complete(queue, delay, depends)
        if self.state in FINAL_STATES and self.state != State.COMPLETE:
            store.act(self.jid, "retry")
        change = Change(
            queue=queue, depend=list(depends or ()), delay_seconds=float(delay) if delay else None
        )
        record = store.alter(self.jid, change)
        self.queue_name = queue
        self._load_status(record)
        return self.state

    # --- labels and flow -----------------------------------------------------------------

    def tag(self, *tags: str) -> list[str]:
        """Add tags."""
        self.tags = list(self.client.store.alter(self.jid, Change(add_tags=tags))["tags"])
        return self.tags

    def untag(self, *tags: str) -> list[str]:
        """Remove tags."""
        self.tags = list(self.client.store.alter(self.jid, Change(remove_tags=tags))["tags"])
        return self.tags

    def track(self) -> bool:
        """Keep an eye on the job: it is listed by ``client.jobs.tracked()`` and its events
        reach ``client.events``."""
        self.tracked = bool(self.client.store.alter(self.jid, Change(tracked=True))["tracked"])
        return True

    def untrack(self) -> bool:
        """Stop tracking the job."""
        self.tracked = bool(self.client.store.alter(self.jid, Change(tracked=False))["tracked"])
        return True

    def depend(self, *jids: str) -> bool:
        """Wait for more jobs to complete before this one runs."""
        self._load_status(self.client.store.alter(self.jid, Change(depend=jids)))
        return True

    def undepend(self, *jids: str, all: bool = False) -> bool:
        """Stop waiting for some (or ``all``) of the jobs this one depends on."""
        self._load_status(
            self.client.store.alter(self.jid, Change(undepend=jids, undepend_all=all))
        )
        return True

    def timeout(self) -> None:
        """End the lock now: the job is taken back and given to the next worker that pops."""
        self.client.store.timeout(self.jid)


def _qless_history(entry: dict[str, Any]) -> dict[str, Any]:
    """A history entry with qless's keys (``what``, ``when``) beside zerog's."""
    event = str(entry.get("event"))
    return {**entry, "what": HISTORY_WORDS.get(event, event), "when": entry.get("at")}


def __getattr__(name: str) -> type[RecurringJob]:
    """``from zerog.qless.job import RecurringJob`` (qless-py's module has both classes; here
    it lives in :mod:`zerog.qless.recurring`, imported when first asked for)."""
    if name == "RecurringJob":
        module = importlib.import_module("zerog.qless.recurring")
        return module.RecurringJob  # type: ignore[no-any-return]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
