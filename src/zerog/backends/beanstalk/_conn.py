"""Connections to beanstalkd: one per thread and purpose, none shared across a fork.

A greenstalk client is one TCP connection and is not thread-safe, and beanstalkd binds a
reservation to the connection that made it: only that connection may touch, release or bury
the job. So each thread reserves through links of its own (one per tube it reserves from,
each watching only that tube, so that "the first queue in order" costs no watch/ignore round
trips), and every other thread that must act on a job a link holds (the heartbeat touching
it, a shutdown releasing it) borrows that link under its lock. Commands that hold no
reservation (put, delete, kick, stats) go through the thread's command link.

Each command is one ``sendall`` of one buffer (greenstalk writes ``put`` and its body
together), and ``TCP_NODELAY`` is set, so no command waits out Nagle's algorithm against the
server's delayed ACK (the 40 ms stall of request/response protocols). The one pair of
commands zerog pipelines, a finished job's delete and the next reserve, also goes out as one
buffer (:class:`Client`, greenstalk's client with that one exchange added).
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import greenstalk

from zerog.errors import BackendUnavailable

T = TypeVar("T")

CONNECT_TIMEOUT_SECONDS = 5.0
# Every command zerog sends is answered at once (reserves use a timeout of 0), so a silent
# server for this long is a dead one; without it a lost server would hang a store transaction.
COMMAND_TIMEOUT_SECONDS = 10.0
DEFAULT_TUBE = "default"

_BROKEN = (OSError, greenstalk.UnknownResponseError, AssertionError)  # greenstalk asserts CRLF.
_pools: weakref.WeakSet[Pool] = weakref.WeakSet()


class Client(greenstalk.Client[str]):
    """greenstalk's client, plus the one exchange zerog sends as two commands in one buffer."""

    def delete_and_reserve(self, bid: int) -> tuple[bool, greenstalk.Job[str] | None]:
        """``delete bid`` and ``reserve-with-timeout 0`` in one round trip: a busy worker's
        job finished and it wants the next. Returns whether the entry was deleted (False:
        NOT_FOUND) and the entry reserved (None: TIMED_OUT, or DEADLINE_SOON, which the
        caller's next plain reserve meets again). Both answers are read before an error is
        raised, so the connection stays in step."""
        self._sock.sendall(b"delete %d\r\nreserve-with-timeout 0\r\n" % bid)
        deleted = self._answer()
        reserved = self._answer()
        job = None
        if reserved[0] == b"RESERVED":
            job_id, size = int(reserved[1]), int(reserved[2])
            chunk = self._reader.read(size + 2)
            if len(chunk) != size + 2 or chunk[-2:] != b"\r\n":
                raise ConnectionError("unexpected end of a reserved job's body")
            job = greenstalk.Job(job_id, chunk[:-2].decode("utf-8"))
        if deleted[0] not in (b"DELETED", b"NOT_FOUND"):
            raise _error(deleted)
        if job is None and reserved[0] not in (b"TIMED_OUT", b"DEADLINE_SOON"):
            raise _error(reserved)
        return deleted[0] == b"DELETED", job

    def _answer(self) -> list[bytes]:
        line = self._reader.readline()
        if not line.endswith(b"\r\n"):
            raise ConnectionError("unexpected end of an answer from beanstalkd")
        return line[:-2].split() or [b""]


def _error(answer: list[bytes]) -> Exception:
    kind = greenstalk.ERROR_RESPONSES.get(answer[0])
    if kind is None:
        return greenstalk.UnknownResponseError(answer[0], answer[1:])
    error: Exception = kind(answer[1:])
    return error


class Link:
    """One connection, with the tube it uses (for put) and the one tube it watches."""

    def __init__(self, address: tuple[str, int]) -> None:
        self.address = address
        self.lock = threading.RLock()
        self.generation = 0  # grows at each (re)connect: reservations die with a connection.
        self._client: Client | None = None
        self._using = DEFAULT_TUBE
        self._watching = DEFAULT_TUBE

    def call(self, command: Callable[[Client], T], retry: bool = True) -> T:
        """Run ``command`` on this connection; a broken connection is dropped and, with
        ``retry``, the command runs once more on a new one. Raises BackendUnavailable."""
        with self.lock:
            try:
                return command(self._connected())
            except _BROKEN as exc:
                self.drop()
                if not retry:
                    raise self._unavailable(exc) from exc
            try:
                return command(self._connected())
            except _BROKEN as exc:
                self.drop()
                raise self._unavailable(exc) from exc

    def held_call(self, generation: int, command: Callable[[Client], object]) -> bool:
        """Run a command on a job this link reserved in connection ``generation``; False
        when the connection was lost since (beanstalkd released the job then)."""
        with self.lock:
            if self.generation != generation or self._client is None:
                return False
            self.call(command, retry=False)
            return True

    def use(self, client: Client, tube: str) -> None:
        """Make ``tube`` the one puts go to (one round trip, only when it changes)."""
        if self._using != tube:
            client.use(tube)
            self._using = tube

    def watch_only(self, client: Client, tube: str) -> None:
        """Make ``tube`` the only one reserves take from."""
        if self._watching != tube:
            client.watch(tube)
            client.ignore(self._watching)
            self._watching = tube

    def _connected(self) -> Client:
        if self._client is None:
            sock = socket.create_connection(self.address, timeout=CONNECT_TIMEOUT_SECONDS)
            try:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
                sock.settimeout(COMMAND_TIMEOUT_SECONDS)
                self._client = Client(sock, encoding="utf-8")
            except BaseException:
                sock.close()
                raise
            self.generation += 1
            self._using = self._watching = DEFAULT_TUBE
        return self._client

    def drop(self) -> None:
        """Close the connection (beanstalkd releases what it held); the next call reconnects."""
        client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(OSError):
                client.close()

    def _unavailable(self, exc: BaseException) -> BackendUnavailable:
        host, port = self.address
        return BackendUnavailable(f"beanstalkd at {host}:{port} is unreachable: {exc!r}")


@dataclass(frozen=True)
class Held:
    """A tube entry a link holds reserved for a running job (lease ``token``)."""

    link: Link
    generation: int
    bid: int
    token: int
    priority: int  # beanstalkd's, for release and bury.

    def call(self, command: Callable[[Client], object]) -> bool:
        """Run a command on the entry through the link that holds it; False when it no
        longer does."""
        return self.link.held_call(self.generation, command)


class Holdings:
    """The entries this backend's links hold reserved, by job uuid (one lease per job)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._held: dict[str, Held] = {}

    def hold(self, uuid: str, held: Held) -> None:
        """Remember the entry a new lease on ``uuid`` holds."""
        with self._lock:
            self._held[uuid] = held

    def get(self, uuid: str, token: int | None = None) -> Held | None:
        """The entry held for ``uuid`` (under lease ``token``, when given)."""
        with self._lock:
            held = self._held.get(uuid)
        return held if held is not None and token in (None, held.token) else None

    def take(self, uuid: str, token: int | None = None) -> Held | None:
        """Forget and return the entry held for ``uuid`` (under ``token``, when given)."""
        with self._lock:
            held = self._held.get(uuid)
            if held is None or token not in (None, held.token):
                return None
            del self._held[uuid]
            return held

    def of_link(self, link: Link) -> list[Held]:
        """The entries one link holds."""
        with self._lock:
            return [held for held in self._held.values() if held.link is link]

    def clear(self) -> None:
        """Forget everything (after a fork: the parent's reservations are not ours)."""
        with self._lock:
            self._held.clear()


class Pool:
    """The links of one backend: per process, per thread, one command link and one link per
    tube reserved from."""

    def __init__(self, address: tuple[str, int]) -> None:
        self.address = address
        self.holdings = Holdings()
        self._local = threading.local()
        self._lock = threading.Lock()
        self._links: list[tuple[threading.Thread, Link]] = []
        self._closed = False
        _pools.add(self)

    def command(self) -> Link:
        """This thread's link for commands that hold no reservation."""
        return self._link(None)

    def reserver(self, tube: str) -> Link:
        """This thread's link that watches only ``tube``."""
        return self._link(tube)

    def _link(self, tube: str | None) -> Link:
        local = self._local
        if getattr(local, "pid", None) != os.getpid():
            local.links, local.pid = {}, os.getpid()
        links: dict[str | None, Link] = local.links
        link = links.get(tube)
        if link is None:
            with self._lock:
                if self._closed:
                    raise BackendUnavailable("the beanstalk backend is closed")
                self._close_dead_threads()
                link = Link(self.address)
                self._links.append((threading.current_thread(), link))
            links[tube] = link
        return link

    def _close_dead_threads(self) -> None:
        """Close the links of threads that ended (the caller holds the lock); beanstalkd
        gives back whatever they still held."""
        alive = []
        for thread, link in self._links:
            if thread.is_alive():
                alive.append((thread, link))
            else:
                with link.lock:
                    link.drop()
        self._links = alive

    def close(self) -> None:
        """Close every link of this process; the pool is unusable afterwards."""
        with self._lock:
            self._closed = True
            for _, link in self._links:
                link.drop()
            self._links = []

    def _after_fork_in_child(self) -> None:
        # Closing the child's copies of the sockets leaves the parent's connections open
        # (no shutdown() is sent); the parent's reservations are not the child's to use.
        self._lock = threading.Lock()
        for _, link in self._links:
            link.lock = threading.RLock()
            link.drop()
        self._links = []
        self.holdings = Holdings()


def _after_fork_in_child() -> None:
    for pool in list(_pools):
        pool._after_fork_in_child()


os.register_at_fork(after_in_child=_after_fork_in_child)
