"""Serving an application: an HTTPServer with sane timeouts, in this thread or in a thread of
its own, and the server's periodic rescue of jobs whose worker vanished.

:class:`ServerThread` runs an application on a free port of 127.0.0.1 in a background thread
with its own event loop: for tests (yours too) and benchmarks, against a real socket.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
from types import TracebackType

import tornado.httpserver
import tornado.netutil
from tornado.ioloop import PeriodicCallback

from zerog.http.app import ApiApplication
from zerog.store import Store

log = logging.getLogger(__name__)

IDLE_CONNECTION_SECONDS = 120.0  # a keep-alive connection with no request is closed then.
BODY_TIMEOUT_SECONDS = 60.0  # a body still arriving after this long is dropped (slowloris).
START_TIMEOUT_SECONDS = 10.0


def make_server(app: ApiApplication) -> tornado.httpserver.HTTPServer:
    """An HTTPServer for ``app``: bodies are limited by the app (a JSON 413), slow bodies and
    idle connections by time."""
    return tornado.httpserver.HTTPServer(
        app,
        idle_connection_timeout=IDLE_CONNECTION_SECONDS,
        body_timeout=BODY_TIMEOUT_SECONDS,
        xheaders=False,  # X-Forwarded-For is only trustworthy behind a known proxy.
    )


def bind(host: str, port: int) -> list[socket.socket]:
    """Listening sockets for ``host:port`` (port 0: a free one)."""
    return tornado.netutil.bind_sockets(port, address=host)


def start_rescue(app: ApiApplication, interval_seconds: float) -> PeriodicCallback:
    """Every ``interval_seconds``, recover jobs whose lease expired (their worker died), as
    workers also do: with the server up, a crashed worker's jobs come back even when no other
    worker is running; and the store's housekeeping (statistics, retention). The call runs on
    the executor; the loop only schedules it."""

    def upkeep(store: Store) -> None:
        store.rescue_expired()
        store.housekeeping()

    async def rescue() -> None:
        try:
            await app.api.run(upkeep)
        except Exception:  # keep rescuing next time; the store may be back by then.
            log.exception("rescuing expired leases failed")

    callback = PeriodicCallback(rescue, interval_seconds * 1000.0)
    callback.start()
    return callback


class ServerThread:
    """``app`` served on ``host`` (a free port) by a thread with its own event loop.

        with ServerThread(make_app(store)) as server:
            urllib.request.urlopen(server.url + "/healthz")

    Leaving the block stops the server, closes its connections and the application.
    """

    def __init__(self, app: ApiApplication, host: str = "127.0.0.1", port: int = 0) -> None:
        self.app = app
        self.sockets = bind(host, port)
        self.port = int(self.sockets[0].getsockname()[1])
        self.url = f"http://{host}:{self.port}"
        self.loop = asyncio.new_event_loop()
        self._server: tornado.httpserver.HTTPServer | None = None
        self._started = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="zerog-http", daemon=True)

    def _serve(self) -> None:
        asyncio.set_event_loop(self.loop)
        self._server = make_server(self.app)
        self._server.add_sockets(self.sockets)
        self._started.set()
        self.loop.run_forever()

    def start(self) -> ServerThread:
        """Start serving; returns once the server accepts connections."""
        self._thread.start()
        if not self._started.wait(START_TIMEOUT_SECONDS):
            raise RuntimeError("the HTTP server thread did not start")
        return self

    def stop(self) -> None:
        """Stop accepting, close open connections (streams too), stop the loop, close the app."""
        if self._thread.is_alive():
            future = asyncio.run_coroutine_threadsafe(self._shutdown(), self.loop)
            future.result(START_TIMEOUT_SECONDS)
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(START_TIMEOUT_SECONDS)
        self.loop.close()
        self.app.close()

    async def _shutdown(self) -> None:
        if self._server is not None:
            self._server.stop()
            await self._server.close_all_connections()

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.stop()
