"""Real worker pools for tests: ``python -m zerog worker`` in its own process group.

A :class:`Pool` is a context manager: it starts the supervisor with its output in a log file
and, however the test ends, stops it (SIGTERM, then SIGKILL of the whole group), so no
process outlives its test. Waits poll a condition with :func:`wait_until`, never a bare sleep.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import zerog
from zerog.store import Store

ROOT = Path(__file__).resolve().parents[2]
STOP_SECONDS = 30.0


def wait_until(predicate: Callable[[], Any], timeout: float = 30.0, what: str = "condition") -> Any:
    """Poll ``predicate`` until it returns something true; returns that."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        assert time.monotonic() < deadline, f"{what} not reached in {timeout} s"
        time.sleep(0.02)


def clean_env(**extra: str) -> dict[str, str]:
    """This environment without the ZEROG_* a developer's shell may hold, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZEROG_")}
    env.update(extra)
    return env


def children_of(pid: int) -> list[int]:
    """The live (not zombie) child processes of ``pid``, from /proc."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                text = handle.read().decode("ascii", "replace")
        except OSError:
            continue
        fields = text[text.rfind(")") + 2 :].split()
        if fields[0] != "Z" and int(fields[1]) == pid:
            found.append(int(entry))
    return sorted(found)


def process_state(pid: int) -> str | None:
    """The scheduler state letter of a process (R, S, T, Z...), None if it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            text = handle.read().decode("ascii", "replace")
    except OSError:
        return None
    return text[text.rfind(")") + 2 :].split()[0]


class Pool:
    """``zerog worker`` with the given flags, on the store at ``url``."""

    def __init__(
        self,
        url: str,
        log_path: Path,
        *flags: str,
        imports: tuple[str, ...] = ("tests.worker.pool_jobs",),
        env: dict[str, str] | None = None,
    ) -> None:
        self.url = url
        self.log_path = log_path
        command = [sys.executable, "-m", "zerog", "worker", "--url", url, "--path", str(ROOT)]
        for module in imports:
            command += ["--import", module]
        self.command = [*command, *flags]
        self.env = clean_env(ZEROG_RESCUE_INTERVAL_SECONDS="0.5", **(env or {}))
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Pool:
        with self.log_path.open("ab") as log:  # the child keeps its own descriptor.
            self.process = subprocess.Popen(
                self.command,
                env=self.env,
                cwd=self.log_path.parent,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own group: killpg reaches every child.
            )
        return self

    def __exit__(self, *exc_info: object) -> None:
        process = self.proc
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(STOP_SECONDS)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()

    @property
    def proc(self) -> subprocess.Popen[bytes]:
        assert self.process is not None, "use the pool in a with block"
        return self.process

    @property
    def pid(self) -> int:
        return self.proc.pid

    def children(self) -> list[int]:
        """The supervisor's live children now."""
        return children_of(self.pid)

    def wait_children(self, count: int, timeout: float = 30.0) -> list[int]:
        """Wait until the supervisor has ``count`` live children; returns their pids."""
        return list(
            wait_until(
                lambda: (found := self.children()) and len(found) == count and found,
                timeout,
                f"{count} worker children",
            )
        )

    def stop(self, timeout: float = STOP_SECONDS) -> int:
        """SIGTERM the supervisor and wait; returns its exit code."""
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout)

    def log(self) -> str:
        """What the pool wrote so far."""
        return self.log_path.read_text(errors="replace")


@contextlib.contextmanager
def pool(url: str, tmp_path: Path, *flags: str, **kwargs: Any) -> Iterator[Pool]:
    """A pool that is stopped however the block ends; its log in ``tmp_path/pool.log``."""
    with Pool(url, tmp_path / "pool.log", *flags, **kwargs) as running:
        yield running


def worker_pid(worker_id: str) -> int:
    """The pid in a worker id (host-pid-random)."""
    return int(worker_id.rsplit("-", 2)[1])


def reservations(record: dict[str, Any]) -> list[str]:
    """The workers that reserved the job, in order."""
    return [h["worker"] for h in record["history"] if h["event"] == "reserved"]


def events(record: dict[str, Any]) -> list[str]:
    """The job's history events, oldest first."""
    return [h["event"] for h in record["history"]]


def enqueue(store: Store, job_type: str, ttr: float = 30.0, **values: Any) -> str:
    """Put a job (of tests.worker.pool_jobs) on ``store``; returns its uuid."""
    return zerog.make_base_job(values, job_type).enqueue(store=store, ttr=ttr)
