"""qless's client over a zerog store: ``client.queues``, ``client.jobs``, ``client.config``,
``client.workers`` and ``client.events``.

``client()`` opens the process's store (``ZEROG_URL``, default ``sqlite:///zerog.db``);
``client('sqlite:///jobs.db')`` (any zerog URL) or ``client(store=...)`` another one.
``client(host=..., port=...)`` means a Redis server, as in qless: zerog's Redis store there
(``redis://host:port/db``; ``db=``, ``password=``, ``username=`` and redis-py's connection
options, e.g. ``socket_timeout=``, go into that URL, and ``prefix=`` names the store). The
client works with no worker or server running, as qless's does.
"""

from __future__ import annotations

import socket
from collections import Counter
from typing import Any
from urllib.parse import quote, urlencode

from zerog.errors import JobNotFound
from zerog.model import Change, Lease, Record, State
from zerog.qless.config import Config
from zerog.qless.events import Events
from zerog.qless.failure import failure_of
from zerog.qless.hold import Hold, LeaseHold, NoHold
from zerog.qless.job import Job
from zerog.qless.listing import all_records, is_stalled, lua_list, window
from zerog.qless.queue import Queue, queue_counts
from zerog.qless.recurring import RecurringJob
from zerog.store import Store, default_store


class Client:
    """A qless client: one store, and the worker name this client pops and holds jobs as."""

    def __init__(
        self,
        url: str | Store | None = None,
        host: str | None = None,
        port: int | None = None,
        hostname: str | None = None,
        *,
        store: Store | None = None,
        **redis_options: Any,
    ) -> None:
        self._owns_store = store is None and url is not None and not isinstance(url, Store)
        self.store = store or _open(url, host, port, redis_options)
        self.worker_name = hostname or socket.gethostname()
        self.queues = Queues(self)
        self.jobs = Jobs(self)
        self.config = Config(self.store)
        self.workers = Workers(self)
        self._events: Events | None = None

    @property
    def events(self) -> Events:
        """Callbacks on tracked jobs' events; watching starts at the first use."""
        if self._events is None:
            self._events = Events(self.store)
        return self._events

    def queue(self, name: str) -> Queue:
        """The queue called ``name`` (``client.queues[name]`` too)."""
        return self.queues[name]

    def track(self, jid: str) -> bool:
        """Start tracking a job."""
        self.store.alter(jid, Change(tracked=True))
        return True

    def untrack(self, jid: str) -> bool:
        """Stop tracking a job."""
        self.store.alter(jid, Change(tracked=False))
        return True

    def tags(self, offset: int = 0, count: int = 100) -> list[str] | dict[str, Any]:
        """The most used tags, most first (``{}`` when there are none, as qless returns)."""
        top = self.store.top_tags(offset + count)
        return lua_list(window([tag for tag, _n in top], offset, count))

    def unfail(self, group: str, queue: str, count: int = 500) -> int:
        """Put up to ``count`` failed jobs of a failure group back in ``queue`` (retried from
        the start there); returns how many moved."""
        failed = all_records(self.store, state=State.FAILED.value)
        members = [r["uuid"] for r in failed if failure_of(r).get("group") == group]
        for jid in members[: max(0, int(count))]:
            self.store.act(jid, "retry")
            self.store.alter(jid, Change(queue=queue))
        return min(len(members), max(0, int(count)))

    def hold_for(self, record: Record) -> Hold:
        """What this client may do with a job read from the store: settle it if it runs
        under this client's worker name (as qless allows), else only cancel or change it."""
        if record["state"] == State.RUNNING and record.get("worker") == self.worker_name:
            lease = Lease(record["uuid"], int(record["lease_token"]), self.worker_name)
            return LeaseHold(self.store, lease, float(record["ttr_seconds"]))
        holder = record.get("worker")
        reason = f"it is {record['state']}"
        if record["state"] == State.RUNNING:
            reason = f"worker {holder} holds it, not {self.worker_name}"
        return NoHold(self.store, reason)

    def close(self) -> None:
        """Close the store if this client opened it."""
        if self._owns_store:
            self.store.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


client = Client
"""qless's spelling: ``qless.client()``."""


def _open(
    url: str | Store | None, host: str | None, port: int | None, redis_options: dict[str, Any]
) -> Store:
    if isinstance(url, Store):
        return url
    if host is not None or port is not None or redis_options or (url and "://" not in url):
        return _open_redis(url if url and "://" not in url else host, port, redis_options)
    if url is None:
        return default_store()
    return Store.from_url(url)


def _open_redis(host: str | None, port: int | None, redis_options: dict[str, Any]) -> Store:
    """qless's ``client(host, port)``: a Redis server, by zerog's redis:// URL."""
    return Store.from_url(redis_url(host, port, redis_options))


def redis_url(host: str | None, port: int | None, options: dict[str, Any]) -> str:
    """The ``redis://`` URL of qless-py's connection arguments (redis-py's names)."""
    rest = dict(options)
    db = rest.pop("db", 0)
    user, password = rest.pop("username", None), rest.pop("password", None)
    auth = ""
    if user is not None or password is not None:
        auth = f"{quote(str(user or ''), safe='')}:{quote(str(password or ''), safe='')}@"
    query = f"?{urlencode(rest)}" if rest else ""
    return f"redis://{auth}{host or 'localhost'}:{port or 6379}/{int(db)}{query}"


class Queues:
    """``client.queues[name]`` and ``client.queues.counts``."""

    def __init__(self, client: Client) -> None:
        self.client = client

    def __getitem__(self, name: str) -> Queue:
        return Queue(name, self.client)

    @property
    def counts(self) -> list[dict[str, Any]] | dict[str, Any]:
        """The counts of every queue that has jobs, recurring jobs or is paused (``{}``
        when there is none, as qless returns)."""
        store = self.client.store
        per_queue = store.counts()
        paused = store.paused_queues()
        names = set(per_queue) | set(paused) | {r["queue"] for r in store.recurrences()}
        counts = [queue_counts(store, n, per_queue.get(n, {}), paused) for n in sorted(names)]
        return lua_list(counts)


class Jobs:
    """``client.jobs``: jobs by jid, and lists of tagged, failed, tracked, complete jobs."""

    def __init__(self, client: Client) -> None:
        self.client = client

    def __getitem__(self, jid: str) -> Job | RecurringJob | None:
        """The job (or recurring job) with that jid, or None. A cancelled job is None too:
        qless deletes it (zerog keeps its record, which the dashboard and CLI show)."""
        store = self.client.store
        try:
            record = store.get(jid)
        except JobNotFound:
            try:
                return RecurringJob(self.client, store.get_recurrence(jid))
            except JobNotFound:
                return None
        if record["state"] == State.CANCELLED:
            return None
        return Job(self.client, record, self.client.hold_for(record))

    def get(self, *jids: str) -> list[Job | RecurringJob]:
        """The jobs of these jids that exist (qless-py's multiget)."""
        found = (self[jid] for jid in jids)
        return [job for job in found if job is not None]

    def _jobs(self, records: list[Record]) -> list[Job]:
        return [Job(self.client, r, self.client.hold_for(r)) for r in records]

    def complete(self, offset: int = 0, count: int = 25) -> list[str]:
        """The jids of complete jobs, newest first."""
        done = all_records(self.client.store, state=State.COMPLETE.value)
        return window([r["uuid"] for r in done], offset, count)

    def tracked(self) -> dict[str, Any]:
        """The tracked jobs (``expired``: tracked jids gone from the store; zerog forgets
        the tracking with the job, so it is always empty: ``{}``, as qless writes it)."""
        records = list(all_records(self.client.store, tracked=True))
        records = [r for r in records if r["state"] != State.CANCELLED]
        return {"jobs": self._jobs(records), "expired": lua_list([])}

    def tagged(self, tag: str, offset: int = 0, count: int = 25) -> dict[str, Any]:
        """The jids of the jobs carrying ``tag`` (oldest first) and how many there are."""
        jids = [r["uuid"] for r in all_records(self.client.store, tag=tag)][::-1]
        return {"total": len(jids), "jobs": lua_list(window(jids, offset, count))}

    def failed(self, group: str | None = None, start: int = 0, limit: int = 25) -> Any:
        """No group: how many failed jobs each failure group has. A group: its total and
        its jobs (newest failure first)."""
        failed = list(all_records(self.client.store, state=State.FAILED.value))
        if group is None:
            return dict(Counter(failure_of(r).get("group", "failed") for r in failed))
        members = [r for r in failed if failure_of(r).get("group") == group]
        members.sort(key=lambda r: r.get("finished_at") or 0, reverse=True)
        return {"total": len(members), "jobs": self._jobs(window(members, start, limit))}


class Workers:
    """``client.workers``: who holds which jobs (from the jobs' leases and the registry of
    ``zerog worker`` processes)."""

    def __init__(self, client: Client) -> None:
        self.client = client

    def _holders(self) -> dict[str, dict[str, list[str]]]:
        store = self.client.store
        now = store.clock()
        holders: dict[str, dict[str, list[str]]] = {}
        for entry in store.workers():
            holders.setdefault(str(entry["id"]), {"jobs": [], "stalled": []})
        for record in all_records(store, state=State.RUNNING.value):
            held = holders.setdefault(record.get("worker") or "", {"jobs": [], "stalled": []})
            held["stalled" if is_stalled(record, now) else "jobs"].append(record["uuid"])
        return holders

    @property
    def counts(self) -> list[dict[str, Any]] | dict[str, Any]:
        """Each worker's name and how many jobs it runs and has let stall (``{}`` when no
        worker holds or held any, as qless returns)."""
        return lua_list(
            [
                {"name": name, "jobs": len(held["jobs"]), "stalled": len(held["stalled"])}
                for name, held in sorted(self._holders().items())
            ]
        )

    def __getitem__(self, worker_name: str) -> dict[str, list[str]]:
        """The jids a worker runs (``jobs``) and has let stall (``stalled``)."""
        return self._holders().get(worker_name, {"jobs": [], "stalled": []})
