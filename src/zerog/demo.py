"""``zerog demo``: the quickstart, everything zerog is for in half a minute.

It makes an embedded SQLite store in a temporary directory (or uses ``--url``), enqueues a few
example long jobs (reports in steps, a crawl that yields between batches, a flaky job that is
retried, the seed's skeleton job), starts two real worker processes and shows each job's live
progress by polling the store, as any other program could. When every job is final it stops
the workers with SIGTERM, prints a summary and exits 0 only if every job ended as expected.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TaskID, TaskProgressColumn, TextColumn
from rich.table import Table
from rich.text import Text

import zerog
from zerog import demo_dashboard
from zerog.backends.contract import Capability
from zerog.cli.output import STATE_STYLES, console, duration, short, state_text
from zerog.errors import ConfigurationError
from zerog.model import FINAL_STATES, Record
from zerog.store import Store
from zerog.urls import mask

EXAMPLES_MODULE = "zerog.examples"
QUEUES = ("examples", "my_job")
WORKERS = 2  # worker processes.
THREADS = 3  # threads per worker process.
WORKER_POLL_SECONDS = 0.5  # idle workers look for due jobs this often.
POLL_SECONDS = 0.25  # the display reads the store this often.
DEADLINE_SECONDS = 110.0  # give up (and fail) if the jobs are not all final by then.
STOP_SECONDS = 15.0  # how long a worker may take to exit after SIGTERM.


@dataclass(frozen=True)
class DemoJob:
    """One example job to enqueue, and what it should end as."""

    label: str
    type: str
    values: dict[str, Any]
    retries_expected: int = 0
    uuid: str = ""


def demo_jobs(speed: float) -> list[DemoJob]:
    """The example jobs; ``speed`` divides every duration (about 20 s at speed 1)."""
    return [
        DemoJob(
            "Quarterly report",
            "example_report",
            {"title": "Quarterly report", "steps": 12, "step_seconds": 1.5 / speed},
        ),
        DemoJob(
            "Customer report",
            "example_report",
            {"title": "Customer report", "steps": 8, "step_seconds": 1.2 / speed},
        ),
        DemoJob(
            "Crawl 40 pages",
            "example_crawl",
            {"pages": 40, "batch": 8, "page_seconds": 0.35 / speed},
        ),
        DemoJob(
            "Flaky upstream",
            "example_flaky",
            {"fail_times": 1, "work_seconds": 4.0 / speed},
            retries_expected=1,
        ),
        DemoJob("Seed skeleton", "my_job_type", {"fieldOne": "hello from zerog demo"}),
    ]


def sqlite_url(path: Path) -> str:
    """The URL of an SQLite file (four slashes for an absolute path)."""
    return f"sqlite:///{path.resolve()}"


@dataclass(frozen=True)
class DemoOptions:
    """What the command line can change."""

    url: str | None = None
    keep: bool = False
    speed: float = 1.0
    port: int = demo_dashboard.DEFAULT_PORT
    stay: bool = False


def run_demo(options: DemoOptions | None = None, out: Console | None = None) -> int:
    """Run the demo; returns the exit code (0: every job ended as expected)."""
    options = options or DemoOptions()
    out = out or console()
    _exit_cleanly_on_sigterm()
    workdir = Path(tempfile.mkdtemp(prefix="zerog-demo-"))
    url = options.url or sqlite_url(workdir / "demo.db")
    try:
        with closing(Store.from_url(url)) as store:
            _check_shared(store, url)
            return _run(store, url, workdir, options, out)
    finally:
        _clean_up(out, workdir, options.keep, url)


def _run(store: Store, url: str, workdir: Path, options: DemoOptions, out: Console) -> int:
    """Enqueue the jobs, serve the dashboard, run the workers, watch, sum up."""
    jobs = enqueue_jobs(store, demo_jobs(options.speed))
    with demo_dashboard.dashboard(store, options.port, out) as server:
        out.print(
            Text(
                f"zerog demo: {len(jobs)} jobs on {mask(url)}, {WORKERS} workers "
                f"x {THREADS} threads",
                style="bold",
            )
        )
        with worker_pool(url, workdir / "workers.log") as pool:
            finished = watch(store, jobs, pool, out)
        records = [store.get(job.uuid, history=True) for job in jobs]
        print_summary(out, jobs, records)
        code = verdict(out, jobs, records, finished, workdir / "workers.log")
        if options.stay:
            demo_dashboard.stay(out, server)
    return code


def _exit_cleanly_on_sigterm() -> None:
    """SIGTERM ends the demo as Ctrl-C does, through its ``finally`` blocks, so its worker
    processes are stopped rather than left running (Python's default for SIGTERM is to die
    on the spot)."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))


def _check_shared(store: Store, url: str) -> None:
    if Capability.MULTI_PROCESS not in store.backend.capabilities:
        raise ConfigurationError(
            f"the demo runs worker processes, and {mask(url)!r} cannot be shared between "
            f"processes; use sqlite:///path.db or a server backend"
        )


def _clean_up(out: Console, workdir: Path, keep: bool, url: str) -> None:
    if keep:
        out.print(
            Text(
                f"kept {workdir} (store: {mask(url)}, worker log: workers.log); "
                f"look inside with: zerog jobs --url {mask(url)}"
            )
        )
    else:
        shutil.rmtree(workdir, ignore_errors=True)


def enqueue_jobs(store: Store, jobs: list[DemoJob]) -> list[DemoJob]:
    """Register the examples the seed's way and enqueue each job; returns them with uuids."""
    if EXAMPLES_MODULE not in zerog.registry.JOB_MODULES:
        # The seeds' own words for registering a job module (hence no unpacking).
        zerog.registry.JOB_MODULES = zerog.registry.JOB_MODULES + [EXAMPLES_MODULE]  # noqa: RUF005
    queued = []
    for job in jobs:
        made = zerog.make_base_job(job.values, job.type)
        queued.append(
            DemoJob(
                job.label,
                job.type,
                job.values,
                job.retries_expected,
                uuid=made.enqueue(store=store),
            )
        )
    return queued


# --- the worker processes ------------------------------------------------------------------


class WorkerPool:
    """Worker subprocesses, their output in one log file."""

    def __init__(self, url: str, log: IO[bytes]) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("ZEROG_")}
        command = [
            sys.executable,
            "-m",
            "zerog",
            "worker",
            "--workers",
            "1",  # the demo starts its own processes: one worker child each.
            "--url",
            url,
            "--import",
            EXAMPLES_MODULE,
            "--threads",
            str(THREADS),
            "--interval",
            str(WORKER_POLL_SECONDS),
        ]
        for queue in QUEUES:
            command += ["-q", queue]
        # ZEROG_* of the caller's shell must not change the demo's workers (say, ZEROG_BURST).
        self.processes = [
            subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, env=env, stdin=subprocess.DEVNULL
            )
            for _ in range(WORKERS)
        ]

    def alive(self) -> int:
        """How many workers still run."""
        return sum(p.poll() is None for p in self.processes)

    def stop(self) -> list[int | None]:
        """SIGTERM each worker (they drain) and wait; kill what outlives STOP_SECONDS."""
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_SECONDS
        for process in self.processes:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        return [p.returncode for p in self.processes]


@contextmanager
def worker_pool(url: str, log_path: Path) -> Iterator[WorkerPool]:
    """Workers that are stopped however the block ends."""
    with open(log_path, "ab") as log:
        pool = WorkerPool(url, log)
        try:
            yield pool
        finally:
            pool.stop()


# --- the live display ----------------------------------------------------------------------


def watch(store: Store, jobs: list[DemoJob], pool: WorkerPool, out: Console) -> bool:
    """Show live progress until every job is final; False if the workers died or time ran
    out first."""
    progress, log_chars = live_display(out)
    tasks = {
        job.uuid: progress.add_task(escape(f"{job.label:<17}"), total=100, state="", eta="", log="")
        for job in jobs
    }
    labels = {job.uuid: job.label for job in jobs}
    states: dict[str, str] = {}
    deadline = time.monotonic() + DEADLINE_SECONDS
    with progress:
        while True:
            records = {uuid: store.get(uuid, history=False) for uuid in tasks}
            for uuid, record in records.items():
                _show(progress, tasks[uuid], record, log_chars)
                _announce(progress.console, labels[uuid], states, record)
            if all(r["state"] in FINAL_STATES for r in records.values()):
                return True
            if not pool.alive() or time.monotonic() > deadline:
                return False
            time.sleep(POLL_SECONDS)


def live_display(out: Console) -> tuple[Progress, int]:
    """The bars, sized to ``out``'s width, and how many characters of a log line fit."""
    bar, log_chars = _widths(out.width)
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(bar_width=bar),
        TaskProgressColumn(),
        TextColumn("{task.fields[state]}"),
        TextColumn("{task.fields[eta]}"),
        TextColumn("{task.fields[log]}"),
        console=out,
        refresh_per_second=8,
    )
    return progress, log_chars


def _widths(columns: int) -> tuple[int, int]:
    """The bar's width and the log line's, so that each job stays on one line of a terminal
    ``columns`` wide (80 included): label 17, percent 4, state 9, ETA 9, and the gaps."""
    bar = 24 if columns >= 110 else 12
    fixed = 17 + bar + 4 + 9 + 9 + 6
    return bar, max(0, columns - fixed - 1)


def _show(progress: Progress, task: TaskID, record: Record, log_chars: int = 48) -> None:
    state = record["state"]
    eta = record.get("eta")
    last = record["events"][-1]["msg"] if record.get("events") else ""
    progress.update(
        task,
        completed=100 * float(record["completeness"] or 0),
        state=f"[{STATE_STYLES.get(state) or 'default'}]{state:<9}[/]",
        eta=f"ETA {duration(eta):>5}" if eta is not None else " " * 9,
        log=escape(short(last, log_chars)) if log_chars > 1 else "",
    )


def _announce(out: Console, label: str, states: dict[str, str], record: Record) -> None:
    """Print each state change above the bars: a log that also reads well without a TTY."""
    state = record["state"]
    if states.get(record["uuid"]) == state:
        return
    states[record["uuid"]] = state
    line = Text(f"{time.strftime('%H:%M:%S')}  {label:<17} ").append(state_text(state))
    if state in ("waiting", "scheduled") and record.get("errors"):
        line.append(Text(f"  (failed, will retry: {short(record['errors'][-1]['msg'], 60)})"))
    out.print(line)


# --- the end -------------------------------------------------------------------------------


def print_summary(out: Console, jobs: list[DemoJob], records: list[Record]) -> None:
    """One row per job: state, attempts, run time, result or last error."""
    table = Table(
        "job",
        "type",
        "state",
        "attempts",
        "runs",
        "run time",
        "result / last error",
        title="summary",
        title_justify="left",
    )
    for job, record in zip(jobs, records, strict=True):
        started, finished = record.get("started_at"), record.get("finished_at")
        ran = finished - started if started is not None and finished is not None else None
        table.add_row(
            Text(job.label),
            Text(job.type),
            state_text(record["state"]),
            str(record["attempts"]),
            str(_runs(record)),
            duration(ran),
            Text(short(_outcome(record), 70)),
        )
    out.print(table)


def _runs(record: Record) -> int:
    """Runs that started: a requeue (the crawl's batches) starts the attempt count afresh,
    so this counts the reservations in the history."""
    return sum(1 for h in record.get("history", []) if h["event"] == "reserved")


def _outcome(record: Record) -> str:
    if record["state"] != "complete" and record.get("errors"):
        return f"error: {record['errors'][-1]['msg']}"
    if record.get("result") is not None:
        return json.dumps(record["result"], ensure_ascii=False)
    if record.get("errors"):
        return f"recovered from: {record['errors'][-1]['msg']}"
    return str(record["events"][-1]["msg"]) if record.get("events") else ""


def verdict(
    out: Console, jobs: list[DemoJob], records: list[Record], finished: bool, log_path: Path
) -> int:
    """0 if every job completed with the retries expected of it, else 1 (and why)."""
    problems = [
        problem
        for job, record in zip(jobs, records, strict=True)
        if (problem := _problem(job, record))
    ]
    if not finished:
        problems.insert(0, "the jobs did not all finish (workers exited or time ran out)")
        problems.append(f"worker log: {_tail(log_path)}")
    if problems:
        out.print(Text("demo failed: " + "; ".join(problems), style="red"))
        return 1
    out.print(Text(f"all {len(jobs)} jobs complete.", style="green bold"))
    return 0


def _problem(job: DemoJob, record: Record) -> str | None:
    retries = sum(1 for h in record.get("history", []) if h["event"] == "retried")
    if record["state"] != "complete":
        return f"{job.label} ended {record['state']}"
    if retries != job.retries_expected:
        return f"{job.label} was retried {retries} time(s), not {job.retries_expected}"
    return None


def _tail(path: Path, lines: int = 5) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "(none)"
    return " | ".join(text.strip().splitlines()[-lines:]) or "(empty)"
