"""A real HTTP endpoint for webhook tests: http.server on a free loopback port, on a thread,
keeping every JSON body POSTed to it; it can answer with errors or slowly first."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class HookServer(ThreadingHTTPServer):
    """Keeps the bodies; ``answers`` are status codes for the first requests (then 200);
    ``delay`` seconds before each answer."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.bodies: list[dict[str, Any]] = []
        self.requests = 0
        self.answers: list[int] = []
        self.delay = 0.0
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/hook"

    def of(self, event: str) -> list[dict[str, Any]]:
        """The bodies of one event kind received so far."""
        with self.lock:
            return [b for b in self.bodies if b.get("event") == event]


class _Handler(BaseHTTPRequestHandler):
    server: HookServer

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with self.server.lock:
            self.server.requests += 1
            status = self.server.answers.pop(0) if self.server.answers else 200
        time.sleep(self.server.delay)
        if status == 200:
            with self.server.lock:
                self.server.bodies.append(json.loads(body))
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


@contextmanager
def hook_server() -> Iterator[HookServer]:
    """A running endpoint, shut down after the block."""
    server = HookServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
