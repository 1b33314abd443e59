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
server's delayed ACK (the 40 ms stall of request/response protocols). The one exchange
zerog pipelines, the deletes of finished jobs' entries and the reserves of the next ones,
also goes out as one buffer (:class:`Client`, greenstalk's client with that exchange added).
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import weakref
from collections.abc import Callable, Sequence
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


RESERVE_NOW = b"reserve-with-timeout 0\r\n"
TIMED_OUT = b"TIMED_OUT"
DRY = (TIMED_OUT, b"DEADLINE_SOON")  # a reserve's answers when nothing is ready.


@dataclass(frozen=True)
class Pipelined:
    """The answers to one pipelined buffer of deletes and reserves."""

    deleted: list[bool]  # per id sent: whether it was deleted (False: NOT_FOUND, or refused).
    jobs: list[greenstalk.Job[str]]  # every entry reserved, in the order beanstalkd gave them.
    ended: bytes | None  # the first answer that reserved nothing (TIMED_OUT, DEADLINE_SOON, an
    # error), None when every reserve took an entry.


class Client(greenstalk.Client[str]):
    """greenstalk's client, plus the one exchange zerog pipelines: deletes and reserves."""

    def delete_and_reserve_many(self, bids: Sequence[int], count: int) -> Pipelined:
        """A ``delete`` for each of ``bids``, then ``count`` times ``reserve-with-timeout
        0``, sent as one buffer (one round trip): a busy worker's batch finished and it wants
        the next. Every answer is read, in order, before anything is raised, so that the
        connection stays in step. Every entry reserved is returned, even one that came after
        a TIMED_OUT (put meanwhile): the connection holds it, so the caller must know it. An
        error answer is raised only when nothing was reserved (the caller's next plain
        command meets it again); otherwise it ends the reserves like TIMED_OUT does."""
        buffer = b"".join(b"delete %d\r\n" % bid for bid in bids) + RESERVE_NOW * count
        if not buffer:
            return Pipelined([], [], None)
        self._sock.sendall(buffer)
        deletes = [self._answer() for _ in bids]
        reserves = [self._reserved() for _ in range(count)]
        jobs = [job for _answer, job in reserves if job is not None]
        ended = next((answer[0] for answer, job in reserves if job is None), None)
        refused = [a for a in deletes if a[0] not in (b"DELETED", b"NOT_FOUND")]
        refused += [a for a, job in reserves if job is None and a[0] not in DRY]
        if refused and not jobs:
            raise _error(refused[0])
        return Pipelined([answer[0] == b"DELETED" for answer in deletes], jobs, ended)

    def _reserved(self) -> tuple[list[bytes], greenstalk.Job[str] | None]:
        """A reserve's answer, and the entry it reserved (with its body) if any."""
        answer = self._answer()
        if answer[0] != b"RESERVED":
            return answer, None
        job_id, size = int(answer[1]), int(answer[2])
        chunk = self._reader.read(size + 2)
        if len(chunk) != size + 2 or chunk[-2:] != b"\r\n":
            raise ConnectionError("unexpected end of a reserved job's body")
        return answer, greenstalk.Job(job_id, chunk[:-2].decode("utf-8"))

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

    def holds(self, generation: int) -> bool:
        """Whether reservations made in connection ``generation`` are still this link's
        (the connection was not lost since: beanstalkd releases them then)."""
        return self._client is not None and self.generation == generation

    def held_call(self, generation: int, command: Callable[[Client], object]) -> bool:
        """Run a command on a job this link reserved in connection ``generation``; False
        when the connection was lost since (beanstalkd released the job then)."""
        with self.lock:
            if not self.holds(generation):
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
