"""Fixtures for the HTTP tests: real servers on free ports of 127.0.0.1, and a small client.

Every server runs in a thread with its own event loop (:class:`zerog.http.ServerThread`);
the tests talk to it over a real socket with ``http.client``, as any client would.
"""

from __future__ import annotations

import http.client
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

import zerog.examples  # noqa: F401 - registers the example job types the tests enqueue.
from tests.http import http_jobs  # noqa: F401 - registers the test job types.
from zerog.backends.memory import MemoryBackend
from zerog.http import ServerThread, make_app
from zerog.settings import Settings
from zerog.store import Store


@dataclass
class Reply:
    """One HTTP answer."""

    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def json(self) -> Any:
        assert self.headers["Content-Type"].startswith("application/json"), self.headers
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode()


class Client:
    """Requests to one server; ``token`` is sent as a bearer token when set."""

    def __init__(self, url: str, token: str | None = None) -> None:
        self.url = url
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.token = token

    def request(
        self,
        method: str,
        path: str,
        body: bytes | str | None = None,
        headers: dict[str, str] | None = None,
        timeout: float = 10.0,
    ) -> Reply:
        sent = dict(headers or {})
        if self.token is not None:
            sent.setdefault("Authorization", f"Bearer {self.token}")
        conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=sent)
            response = conn.getresponse()
            return Reply(response.status, response.headers, response.read())
        finally:
            conn.close()

    def get(self, path: str, **kwargs: Any) -> Reply:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, data: Any = None, **kwargs: Any) -> Reply:
        body = None if data is None else json.dumps(data)
        headers = {"Content-Type": "application/json", **kwargs.pop("headers", {})}
        return self.request("POST", path, body=body, headers=headers, **kwargs)


def memory_store() -> Store:
    """A store in this process's memory, on the real clock."""
    return Store(MemoryBackend(), Settings(url="memory://"))


def sqlite_store(path: Path) -> Store:
    """A store on a fresh SQLite file."""
    return Store.from_url(f"sqlite:///{path}")


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A fresh store of each kind; closed after the test."""
    made = memory_store() if request.param == "memory" else sqlite_store(tmp_path / "jobs.db")
    yield made
    made.close()


Serve = Callable[..., Client]


@pytest.fixture
def serve() -> Iterator[Serve]:
    """Start ``make_app(store, **kwargs)`` on a free port; returns a client. All servers are
    stopped (and their applications closed) after the test."""
    servers: list[ServerThread] = []

    def start(store: Store | None = None, client_token: str | None = None, **kwargs: Any) -> Client:
        server = ServerThread(make_app(store, **kwargs)).start()
        servers.append(server)
        return Client(server.url, token=client_token)

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def api(serve: Serve, store: Store) -> Client:
    """A server on ``store`` with no token."""
    return serve(store)
