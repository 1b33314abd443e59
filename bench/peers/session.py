"""One run of one system: fresh stores, side-channel files, its workers and its producer.

Everything a workload needs from the outside world goes through a ``Session``, so the
workloads themselves stay generic: they start workers, call the producer, watch the files and
read the meter.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from cpu import Meter, tree_seconds
from peer import PEERS_DIR
from servers import Servers, pg_backends
from sidechannel import DONE, LINES, STARTED, count
from systems import Ctx, System

STOP_SECONDS = 20.0  # a worker's graceful stop, before it is killed.
QUIET_SECONDS = 0.05  # CPU seconds per half second under which started workers are idle.


class NotAvailable(Exception):
    """The system can't run here (the cell says why); raised by the producer's answer."""


class Session:
    """Fresh stores for one run of one system (``with Session.open(...) as s``)."""

    def __init__(self, servers: Servers, system: System, ctx: Ctx, run_dir: Path) -> None:
        self.servers, self.system, self.ctx, self.dir = servers, system, ctx, run_dir
        self.done, self.started, self.lines = (run_dir / n for n in ("done", "started", "lines"))
        self.workers: list[subprocess.Popen[bytes]] = []
        self.base = 0  # marks in the done file before the measured jobs (the warm-up's).
        self.env = self._env()

    @classmethod
    @contextlib.contextmanager
    def open(cls, servers: Servers, system: System) -> Iterator[Session]:
        servers.flush_redis()
        run_dir = servers.scratch / f"{system.name}-{uuid.uuid4().hex[:8]}"
        run_dir.mkdir()
        with servers.pg.database() as dsn:
            ctx = Ctx(
                servers.redis_url,
                dsn,
                str(run_dir),
                f"127.0.0.1:{servers.beanstalk_port}",
                f"bench{uuid.uuid4().hex[:8]}",
            )
            session = cls(servers, system, ctx, run_dir)
            try:
                yield session
            finally:
                session.stop_workers(hard=True)

    def _env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ZEROG_", "ZB_"))}
        env.update(
            PYTHONPATH=str(PEERS_DIR),
            ZB_REDIS_URL=self.ctx.redis_url,
            ZB_PG_DSN=self.ctx.pg_dsn,
            ZB_DIR=self.ctx.dir,
            ZB_BEANSTALK=self.ctx.beanstalk,
            ZB_TUBE=self.ctx.tube,
            **{DONE: str(self.done), STARTED: str(self.started), LINES: str(self.lines)},
        )
        env.update(self.system.env(self.ctx))
        return env

    def meter(self) -> Meter:
        """A meter over this run's workers and its store's server processes."""
        meter = Meter()
        meter.tree("workers", lambda: [w.pid for w in self.workers])
        pids = self.servers.server_pids(self.system.store)
        meter.tree("store", lambda: pids)
        if self.system.store == "postgresql":
            meter.backends("store_pg", lambda: pg_backends(self.ctx.pg_dsn))
        return meter

    # --- the producer ---------------------------------------------------------------------

    def produce(self, mode: str, n: int, **options: float) -> dict[str, Any]:
        """Run the producer to its end; its JSON answer."""
        argv = [sys.executable, str(PEERS_DIR / "produce.py"), self.system.module, mode, str(n)]
        for key, value in options.items():
            argv += [f"--{key}", str(value)]
        done = subprocess.run(argv, env=self.env, capture_output=True, timeout=900, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"producer failed: {tail(done.stderr)}")
        answer: dict[str, Any] = json.loads(done.stdout.decode().strip().splitlines()[-1])
        if "unavailable" in answer:
            raise NotAvailable(answer["unavailable"])
        return answer

    # --- the workers ----------------------------------------------------------------------

    def start_workers(self, concurrency: int | None = None) -> float:
        """Start the system's standard workers; the time they were started (perf_counter)."""
        self.produce("prepare", 0)  # procrastinate's workers need its schema to start.
        env = dict(self.env, ZB_CONCURRENCY=str(concurrency or ""))
        log = (self.dir / "workers.log").open("ab")
        started = time.perf_counter()
        for argv in self.system.commands(concurrency):
            argv = [part.format(**env) for part in argv]
            self.workers.append(
                subprocess.Popen(
                    argv, env=env, cwd=self.dir, stdout=log, stderr=log, start_new_session=True
                )
            )
        log.close()
        return started

    def check_workers(self) -> None:
        """Fail fast, with their log, when a worker died."""
        for worker in self.workers:
            if worker.poll() is not None:
                raise RuntimeError(f"a worker exited ({worker.returncode}): {self.worker_log()}")

    def worker_log(self) -> str:
        path = self.dir / "workers.log"
        return tail(path.read_bytes()) if path.exists() else ""

    def stop_workers(self, hard: bool = False) -> None:
        """SIGTERM (each system's graceful stop), then SIGKILL of the whole process group."""
        for worker in self.workers:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(worker.pid, signal.SIGKILL if hard else signal.SIGTERM)
        deadline = time.monotonic() + STOP_SECONDS
        for worker in self.workers:
            with contextlib.suppress(subprocess.TimeoutExpired):
                worker.wait(max(0.1, deadline - time.monotonic()))
            with contextlib.suppress(ProcessLookupError):
                os.killpg(worker.pid, signal.SIGKILL)  # stragglers of its group.
            worker.wait()
        self.workers.clear()

    # --- the side channel -----------------------------------------------------------------

    def wait_done(
        self,
        n: int,
        timeout: float,
        poll: float = 0.002,
        path: Path | None = None,
        meter: Meter | None = None,
    ) -> float:
        """Until ``n`` marks are in the file; the time (perf_counter) the last was seen."""
        path = path or self.done
        n += self.base if path == self.done else 0
        deadline = time.perf_counter() + timeout
        next_check = 0.0
        while count(path) < n:
            now = time.perf_counter()
            if now > deadline:
                raise RuntimeError(f"only {self.counted(path)} jobs of {n} after {timeout:.0f} s")
            if now > next_check:  # not every poll: the check costs more than a stat.
                self.check_workers()
                if meter is not None:
                    meter.sample()
                next_check = now + 0.25
            time.sleep(poll)
        return time.perf_counter()

    def warm_up(self) -> None:
        """One job through the started workers, until they are quiet, then idle: W3-W5 start
        from idle workers, all of them up (a pool of 50 processes or a second node can still
        be starting when the first has run the warm-up job)."""
        self.produce("one", 1)
        self.wait_done(1, timeout=120, poll=0.01)
        self.base = count(self.done)
        self.wait_quiet()
        time.sleep(2.0)

    def wait_quiet(self, limit: float = 60.0) -> None:
        """Until the workers spend under a tenth of a core over half a second."""
        pids = [w.pid for w in self.workers]
        deadline = time.monotonic() + limit
        before = sum(tree_seconds(pid) for pid in pids)
        while time.monotonic() < deadline:
            time.sleep(0.5)
            now = sum(tree_seconds(pid) for pid in pids)
            if now - before < QUIET_SECONDS:
                return
            before = now

    def counted(self, path: Path | None = None) -> int:
        """Marks in a file, less the warm-up's."""
        path = path or self.done
        return count(path) - (self.base if path == self.done else 0)


def tail(data: bytes, lines: int = 15) -> str:
    return "\n".join(data.decode(errors="replace").strip().splitlines()[-lines:])
