"""``zerog serve``: the HTTP API in one process, and with ``--workers N`` a worker pool beside it.

The pool is one ``python -m zerog worker --workers N`` child with the server's URL, job modules
and grace period: the worker command's own supervisor forks, respawns and recycles the N
processes. The child runs in its own process group, so the Ctrl-C a terminal sends reaches only
the server, which turns each SIGTERM or SIGINT it receives into one SIGTERM to the child: the
first drains (running jobs get the grace period, then are released with their checkpoint), a
second stops them at once. Should the child itself die, it is started again after a backoff.

The server binds 127.0.0.1 unless ``--host`` says otherwise; bound to the loopback interface it
answers only requests addressed to a loopback name (no DNS rebinding).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass, field

from zerog.cli._common import (
    EXIT_OK,
    Commands,
    add_imports,
    add_url,
    import_job_modules,
    open_store,
)
from zerog.cli._flags import add_flag, positive_int, seconds
from zerog.cli.tokens import read_tokens_file
from zerog.errors import ConfigurationError
from zerog.http import LOOPBACK_HOSTS, ApiApplication, Limits, make_app
from zerog.http.server import bind, make_server, start_rescue
from zerog.settings import GRACE_SECONDS
from zerog.urls import mask, parse_url

log = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"  # reachable from this machine only, unless told otherwise.
DEFAULT_PORT = 8080
POOL_CHECK_SECONDS = 1.0  # how often the pool looks for workers that died.
RESPAWN_FIRST_SECONDS = 1.0  # first wait before starting a dead worker again; doubles...
RESPAWN_CAP_SECONDS = 30.0  # ...up to this.
RESPAWN_RESET_SECONDS = 60.0  # a worker that lived this long had no crash loop: reset.
KILL_AFTER_GRACE_SECONDS = 5.0  # workers still alive this long past the grace are killed.


def add_parser(commands: Commands) -> None:
    """Register ``zerog serve``."""
    parser = commands.add_parser(
        "serve",
        help="serve the HTTP API (and, with --workers, run workers beside it)",
        description="Serve the HTTP API and dashboard; with --workers N, also run N worker "
        "processes. SIGTERM or Ctrl-C stops the server and drains the workers.",
    )
    add_url(parser)
    add_flag(parser, "--host", default=DEFAULT_HOST, metavar="HOST", help="address to bind")
    add_flag(parser, "--port", kind=port, default=DEFAULT_PORT, metavar="N", help="port to bind")
    add_flag(
        parser,
        "--token",
        metavar="T",
        many=True,
        help="require 'Authorization: Bearer T' on every route but /healthz; repeat for several, "
        "NAME=SECRET names its holder in the audit trail (prefer the environment variable: a "
        "command line is visible to other users)",
    )
    add_flag(
        parser,
        "--tokens-file",
        metavar="PATH",
        help="named tokens, one NAME=SECRET a line (# comments allowed), added to --token; the "
        "file must be readable by its owner alone (chmod 600)",
    )
    add_flag(
        parser,
        "--workers",
        kind=count,
        default=0,
        metavar="N",
        help="run N worker processes beside the server (under the worker command's supervisor)",
    )
    add_flag(
        parser,
        "--grace",
        kind=seconds,
        default=GRACE_SECONDS,
        metavar="S",
        help="how long a stop waits for the workers' running jobs",
    )
    add_imports(parser)
    add_flag(parser, "--verbose", "-v", switch=True, help="log every request and state change")
    parser.set_defaults(handler=run, log_level=logging.INFO)


def port(text: str) -> int:
    """A TCP port, 0 (any free one) to 65535."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a port number, not {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"must be 0..65535, not {text!r}")
    return value


def count(text: str) -> int:
    """An integer >= 0."""
    return 0 if text.strip() == "0" else positive_int(text)


def run(args: argparse.Namespace) -> int:
    """Serve until SIGTERM or SIGINT, then stop the workers and close the store."""
    if parse_url(args.url).scheme == "memory" and args.workers:
        raise ConfigurationError(
            "memory:// lives in the server's own process; worker processes cannot see it "
            "(use a sqlite:/// URL with --workers)"
        )
    import_job_modules(args)
    tokens = [
        *(args.token or ()),
        *(read_tokens_file(args.tokens_file) if args.tokens_file else ()),
    ]
    served = argparse.Namespace(**{**vars(args), "url": pooled(args.url)})
    with closing(open_store(served)) as store:
        loopback = args.host in LOOPBACK_HOSTS
        if not loopback and not tokens:
            log.warning(
                "serving on %s with no token: anyone who reaches it can enqueue and steer "
                "jobs (set ZEROG_TOKEN)",
                args.host,
            )
        app = make_app(store, token=tokens, allowed_hosts=LOOPBACK_HOSTS if loopback else None)
        try:
            size = 1 if args.workers else 0
            pool = WorkerPool(worker_command(args), size, _child_env(args.environ))
            asyncio.run(_serve(app, args.host, args.port, pool, args.grace))
        finally:
            app.close()
    return EXIT_OK


def pooled(url: str) -> str:
    """The server's store URL: on PostgreSQL, its request threads share a pool of as many
    connections as run at once (``pool=N``), unless the URL names a pool size itself."""
    parsed = parse_url(url)
    if parsed.scheme != "postgresql" or "pool" in parsed.options:
        return url
    return f"{url}{'&' if '?' in url else '?'}pool={Limits().executor_threads}"


def worker_command(args: argparse.Namespace) -> list[str]:
    """``python -m zerog worker --workers N`` with the server's URL, job modules and paths."""
    command = [sys.executable, "-m", "zerog", "worker", "--url", args.url]
    command += ["--workers", str(args.workers), "--grace", repr(float(args.grace))]
    for module in args.imports or ():
        command += ["--import", module]
    for path in args.paths or ():
        command += ["--path", os.path.abspath(path)]
    if args.verbose:
        command.append("--verbose")
    return command


WORKERS_NEED_NOT = ("ZEROG_TOKEN", "ZEROG_TOKENS_FILE")


def _child_env(environ: Mapping[str, str]) -> dict[str, str]:
    """The workers' environment: the server's, less the tokens they have no use for."""
    return {key: value for key, value in environ.items() if key not in WORKERS_NEED_NOT}


async def _serve(
    app: ApiApplication, host: str, port_number: int, pool: WorkerPool, grace: float
) -> None:
    """Serve until the first stop request; then stop accepting, drain the pool, close."""
    try:
        sockets = bind(host, port_number)
    except OSError as exc:
        raise ConfigurationError(f"cannot listen on {host}:{port_number}: {exc.strerror}") from None
    server = make_server(app)
    server.add_sockets(sockets)
    rescue = start_rescue(app, app.api.store.settings.rescue_interval_seconds)
    bound = sockets[0].getsockname()
    log.info("zerog serving %s on http://%s:%d", mask(app.api.store.settings.url), host, bound[1])
    stops = _Stops()
    stops.install()
    pool.start()
    try:
        await stops.wait_first(pool)
        server.stop()
        rescue.stop()
        await pool.stop(grace, stops)
        await server.close_all_connections()
    finally:
        stops.uninstall()
        pool.kill()


@dataclass
class _Stops:
    """SIGTERM and SIGINT counted as stop requests (handlers only set a flag)."""

    requests: int = 0
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def install(self) -> None:
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, self._request)

    def uninstall(self) -> None:
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)

    def _request(self) -> None:
        self.requests += 1
        self.changed.set()

    async def wait_first(self, pool: WorkerPool) -> None:
        """Until the first stop request, looking after the pool meanwhile."""
        while not self.requests:
            pool.check()
            await self.changed_within(POOL_CHECK_SECONDS)

    async def changed_within(self, seconds: float) -> None:
        """Wait until a stop request comes, or ``seconds`` pass."""
        try:
            await asyncio.wait_for(self.changed.wait(), seconds)
        except TimeoutError:
            return
        self.changed.clear()


@dataclass
class _Slot:
    """One worker of the pool: its process and when it may be started again."""

    process: subprocess.Popen[bytes] | None = None
    started: float = 0.0
    backoff: float = RESPAWN_FIRST_SECONDS
    next_start: float = 0.0


class WorkerPool:
    """Child processes (here: one worker supervisor), restarted when they die, stopped with
    SIGTERM."""

    def __init__(self, command: Sequence[str], size: int, env: Mapping[str, str]) -> None:
        self.command = list(command)
        self.env = dict(env)
        self.slots = [_Slot() for _ in range(size)]
        self.stopping = False

    def start(self) -> None:
        """Start every worker."""
        for slot in self.slots:
            self._spawn(slot)
        if self.slots:
            pids = ", ".join(str(s.process.pid) for s in self.slots if s.process)
            log.info("started the worker supervisor: process %s", pids)

    def _spawn(self, slot: _Slot) -> None:
        slot.process = subprocess.Popen(
            self.command, env=self.env, stdin=subprocess.DEVNULL, start_new_session=True
        )
        slot.started = time.monotonic()

    def check(self) -> None:
        """Start again the workers that died (after their backoff)."""
        now = time.monotonic()
        for slot in self.slots:
            if self.stopping or slot.process is None or slot.process.poll() is None:
                continue
            if slot.next_start == 0.0:
                lived = now - slot.started
                slot.backoff = (
                    RESPAWN_FIRST_SECONDS
                    if lived > RESPAWN_RESET_SECONDS
                    else min(RESPAWN_CAP_SECONDS, slot.backoff * 2)
                )
                slot.next_start = now + slot.backoff
                log.warning(
                    "worker %d exited with %s; restarting in %.0f s",
                    slot.process.pid,
                    slot.process.returncode,
                    slot.backoff,
                )
            elif now >= slot.next_start:
                slot.next_start = 0.0
                self._spawn(slot)

    def signal_all(self) -> None:
        """One SIGTERM to every live worker."""
        for slot in self.slots:
            if slot.process is not None and slot.process.poll() is None:
                slot.process.send_signal(signal.SIGTERM)

    def alive(self) -> bool:
        """Whether any worker still runs."""
        return any(s.process is not None and s.process.poll() is None for s in self.slots)

    async def stop(self, grace: float, stops: _Stops) -> None:
        """Drain: one SIGTERM now, another for each further stop request; wait the grace
        period (and a little more) for them to exit."""
        self.stopping = True
        forwarded = 0
        deadline = time.monotonic() + grace + KILL_AFTER_GRACE_SECONDS
        while self.alive() and time.monotonic() < deadline:
            while forwarded < min(stops.requests, 2):
                forwarded += 1
                log.info("stopping workers (SIGTERM %d)", forwarded)
                self.signal_all()
            await stops.changed_within(0.1)

    def kill(self) -> None:
        """SIGKILL what is still alive, and reap every worker."""
        for slot in self.slots:
            if slot.process is None:
                continue
            if slot.process.poll() is None:
                log.warning("worker %d did not stop in time; killing it", slot.process.pid)
                slot.process.kill()
            slot.process.wait()
