"""The demo's dashboard: the HTTP API and dashboard over the demo's store, in a thread of the
demo's process, so that one command shows the jobs both in the terminal and in a browser.

It binds 127.0.0.1 only (and answers only to loopback host names, against DNS rebinding),
with no token: nothing outside this machine can reach it, and it lives as long as the demo.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.text import Text

from zerog.http import LOOPBACK_HOSTS, make_app
from zerog.http.server import ServerThread
from zerog.store import Store

HOST = "127.0.0.1"
DEFAULT_PORT = 8080


@contextmanager
def dashboard(store: Store, port: int, out: Console) -> Iterator[ServerThread]:
    """Serve the dashboard for the block; print its address. A port already taken is not
    an error: the demo takes a free one instead and says which."""
    app = make_app(store, allowed_hosts=LOOPBACK_HOSTS)
    try:
        server = ServerThread(app, HOST, port)
    except OSError:
        server = ServerThread(app, HOST, 0)
        out.print(Text(f"port {port} is taken; the dashboard uses {server.port} instead"))
    with server:
        out.print(Text.assemble("dashboard: ", (f"{server.url}/", "bold cyan")))
        yield server


def stay(out: Console, server: ServerThread) -> None:
    """Keep serving until Ctrl-C or SIGTERM, so the finished jobs can be looked at."""
    stopped = threading.Event()
    previous = {
        signum: signal.signal(signum, lambda *_: stopped.set())
        for signum in (signal.SIGINT, signal.SIGTERM)
    }
    out.print(Text(f"the dashboard stays up at {server.url}/ until Ctrl-C"))
    try:
        while not stopped.wait(0.5):  # a timed wait: the handlers run between waits.
            pass
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
