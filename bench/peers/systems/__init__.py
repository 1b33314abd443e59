"""Every system the suite runs: its store, its standard worker command, and what it can't do.

The runner imports this registry only; the library modules beside it are imported by the
producer and worker processes it starts, so a peer's global state never reaches the runner.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field

from peer import PEERS_DIR, PROCESSES, tool

Argv = list[str]


@dataclass(frozen=True)
class Ctx:
    """Where one run's stores are (each fresh for the run)."""

    redis_url: str
    pg_dsn: str
    dir: str
    beanstalk: str  # host:port
    tube: str


@dataclass(frozen=True)
class System:
    name: str
    store: str  # redis, postgresql, sqlite, beanstalkd.
    module: str  # systems.<module>: the producer and the workers' tasks.
    commands: Callable[[int | None], list[Argv]]  # concurrency per process -> worker argvs.
    flags: str  # the worker command as the README and the results show it.
    progress: bool = False
    skip: dict[str, str] = field(default_factory=dict)  # workload -> why n/a.
    env: Callable[[Ctx], dict[str, str]] = lambda ctx: {}


def times(argv: Argv, n: int = PROCESSES) -> list[Argv]:
    """The same single-process command started ``n`` times."""
    return [list(argv) for _ in range(n)]


def zerog_cmd(concurrency: int | None) -> list[Argv]:
    argv = [sys.executable, "-m", "zerog", "worker", "--url", "{ZB_ZEROG_URL}", "-q", "bench"]
    argv += ["--workers", str(PROCESSES), "--import", "systems.zerog_peer"]
    argv += ["--path", str(PEERS_DIR)]
    return [argv + (["--threads", str(concurrency)] if concurrency else [])]


def rq_cmd(concurrency: int | None) -> list[Argv]:
    if concurrency:  # RQ runs one job per process: concurrency is processes.
        n = str(PROCESSES * concurrency)
        return [[tool("rq"), "worker-pool", "-n", n, "-u", "{ZB_REDIS_URL}", "bench"]]
    return times([tool("rq"), "worker", "-u", "{ZB_REDIS_URL}", "bench"])


def dramatiq_cmd(concurrency: int | None) -> list[Argv]:
    argv = [tool("dramatiq"), "systems.dramatiq_peer", "-p", str(PROCESSES)]
    return [[*argv, "-t", str(concurrency or 8)]]  # 8: Dramatiq's default threads.


def huey_cmd(concurrency: int | None) -> list[Argv]:
    argv = [tool("huey_consumer"), "systems.huey_peer.huey"]
    if concurrency:  # a process worker runs one task: threads in one process instead.
        return [[*argv, "-w", str(PROCESSES * concurrency), "-k", "thread"]]
    return [[*argv, "-w", str(PROCESSES), "-k", "process"]]


def celery_cmd(concurrency: int | None) -> list[Argv]:
    argv = [tool("celery"), "-A", "systems.celery_peer", "worker", "-l", "WARNING", "-Q", "bench"]
    if concurrency:  # two nodes of threads.
        return [
            [*argv, "-P", "threads", "-c", str(concurrency), "-n", f"w{k}@%h"]
            for k in range(PROCESSES)
        ]
    return [[*argv, "-P", "prefork", "-c", str(PROCESSES)]]


def arq_cmd(concurrency: int | None) -> list[Argv]:
    return times([tool("arq"), "systems.arq_peer.WorkerSettings"])


def procrastinate_cmd(concurrency: int | None) -> list[Argv]:
    argv = [tool("procrastinate"), "--app=systems.procrastinate_peer.app", "worker", "-q", "bench"]
    return times(argv + (["--concurrency", str(concurrency)] if concurrency else []))


def pgqueuer_cmd(concurrency: int | None) -> list[Argv]:
    argv = [tool("pgq"), "run", "systems.pgqueuer_peer:create"]
    return times(argv + (["--max-concurrent-tasks", str(concurrency)] if concurrency else []))


def greenstalk_cmd(concurrency: int | None) -> list[Argv]:
    return times([sys.executable, "-m", "systems.greenstalk_peer"])


def sqlite_url(ctx: Ctx, options: str = "") -> str:
    return f"sqlite:///{ctx.dir}/zerog.db{options}"


def beanstalk_url(ctx: Ctx) -> str:
    return f"beanstalk://{ctx.beanstalk}?store=sqlite:///{ctx.dir}/records.db&prefix={ctx.tube}."


def pg_url(ctx: Ctx) -> str:
    return f"{ctx.pg_dsn}?schema=zerog"


NO_PROGRESS = {"W5": "no progress API"}
ZEROG_FLAGS = "python -m zerog worker --url URL -q bench --workers 2 --import systems.zerog_peer"
HUEY_FLAGS = "huey_consumer systems.huey_peer.huey -w 2 -k process (W4: -w 50 -k thread)"


def zerog(name: str, store: str, url: Callable[[Ctx], str], **extra: object) -> System:
    return System(
        name,
        store,
        "zerog_peer",
        zerog_cmd,
        ZEROG_FLAGS + " [--threads 25 | 500]",
        progress=True,
        env=lambda ctx: {"ZB_ZEROG_URL": url(ctx)},
        **extra,  # type: ignore[arg-type]
    )


def huey(store: str) -> System:
    name = f"huey-{store.replace('postgresql', 'pg')}"
    return System(
        name,
        store,
        "huey_peer",
        huey_cmd,
        HUEY_FLAGS,
        skip=NO_PROGRESS,
        env=lambda ctx: {"ZB_VARIANT": name},
    )


SYSTEMS: list[System] = [
    System(
        "rq",
        "redis",
        "rq_peer",
        rq_cmd,
        "rq worker -u URL bench, x2 (W4: rq worker-pool -n 50)",
        progress=True,
        skip={"W5": "one job per process: 1,000 running jobs would take 1,000 work horses"},
    ),
    System(
        "dramatiq",
        "redis",
        "dramatiq_peer",
        dramatiq_cmd,
        "dramatiq systems.dramatiq_peer -p 2 -t 8 (W4: -t 25)",
        skip=NO_PROGRESS,
    ),
    huey("redis"),
    System(
        "celery",
        "redis",
        "celery_peer",
        celery_cmd,
        "celery -A systems.celery_peer worker -P prefork -c 2"
        " (W4/W5: 2 nodes -P threads -c 25/500)",
        progress=True,
    ),
    System(
        "arq",
        "redis",
        "arq_peer",
        arq_cmd,
        "arq systems.arq_peer.WorkerSettings, x2 (max_jobs 10; W4: 25)",
        skip=NO_PROGRESS,
    ),
    zerog("zerog-redis", "redis", lambda ctx: ctx.redis_url),
    System(
        "procrastinate",
        "postgresql",
        "procrastinate_peer",
        procrastinate_cmd,
        "procrastinate --app=systems.procrastinate_peer.app worker, x2 (W4: --concurrency 25)",
        skip=NO_PROGRESS,
    ),
    System(
        "pgqueuer",
        "postgresql",
        "pgqueuer_peer",
        pgqueuer_cmd,
        "pgq run systems.pgqueuer_peer:create, x2 (W4: --max-concurrent-tasks 25)",
        skip=NO_PROGRESS,
    ),
    huey("postgresql"),
    zerog(
        "zerog-pg",
        "postgresql",
        pg_url,
        skip={
            "W5": "a PostgreSQL connection per worker thread: 1,000 running jobs would "
            "open 1,000 connections (max_connections is 100 here)"
        },
    ),
    huey("sqlite"),
    zerog("zerog-sqlite", "sqlite", sqlite_url),
    zerog(
        "zerog-sqlite-full",
        "sqlite",
        lambda ctx: sqlite_url(ctx, "?synchronous=full"),
        skip={w: "W2 only (huey's durability)" for w in ("W1", "W3", "W4", "W5")},
    ),
    System(
        "greenstalk",
        "beanstalkd",
        "greenstalk_peer",
        greenstalk_cmd,
        "python -m systems.greenstalk_peer, x2 (1 thread; W4: 25 threads)",
        skip={"W5": "a raw loop: no progress API"},
    ),
    zerog("zerog-beanstalk", "beanstalkd", beanstalk_url),
]

BY_NAME = {system.name: system for system in SYSTEMS}
