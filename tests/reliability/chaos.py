"""The chaos run and its checkers: a pool whose children are killed with SIGKILL at random
while it works through thousands of jobs, then three independent checks of what it did.

1. **Nothing lost, one final state**: every job put is there, in a final state, with exactly
   one final entry in its history, the last one.
2. **One live lease at a time** (from each job's history alone): every ``reserved`` opens a
   lease (the k-th reservation is token k); it is closed by a settlement made under it (its
   worker's: the job's own, or the supervisor's on behalf of a dead child) or by a rescue,
   and a rescue can only close it once it expired, no earlier than ``reserved`` + TTR (each
   renewal only pushes the expiry later). No ``reserved`` comes while a lease is open.
3. **Each job completed exactly once**: each run appends ``<uuid> <token> <pid>`` to a file
   before it returns (:mod:`tests.reliability.chaos_jobs`). A complete job has exactly one
   line with the token of its completing run (its record's ``lease_token``) and that lease
   closed with ``completed``; its other lines come from runs whose lease closed otherwise
   (killed after the side effect, before the settlement: at-least-once, visible).
"""

from __future__ import annotations

import os
import random
import signal
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.reliability.chaos_jobs import CHAOS_QUEUE, CHAOS_TYPE
from tests.worker.pool import Pool
from zerog.model import FINAL_STATES
from zerog.record import JobSpec, Record
from zerog.store import Store

TTR_SECONDS = 2.0  # short, so that leases of killed runs expire (and are rescued) quickly.
MAX_RETRIES = 1000  # a job must not fail for being killed often: we count, not give up.
BATCH = 500
MIN_PROGRESS = 10  # jobs finished between two kills, at least (see _monkey).
SETTLED_BY_WORKER = frozenset(
    {"completed", "retried", "failed", "requeued", "released", "cancelled", "paused"}
)
RESCUES = frozenset({"lease-expired", "failed-worker-lost"})
FINAL = frozenset(str(state) for state in FINAL_STATES)


@dataclass
class ChaosReport:
    """What a chaos run did and what its checks found."""

    jobs: int
    seconds: float = 0.0
    kills: int = 0
    states: Counter[str] = field(default_factory=Counter)
    closings: Counter[str] = field(default_factory=Counter)  # how leases ended.
    extra_effects: int = 0  # side effects of runs that did not complete the job.
    problems: list[str] = field(default_factory=list)

    def line(self) -> str:
        """One line for people: the result of the run."""
        states = ", ".join(f"{n} {s}" for s, n in sorted(self.states.items()))
        return (
            f"chaos: {self.jobs} jobs in {self.seconds:.0f} s, {self.kills} children killed; "
            f"{states}; leases closed: {dict(sorted(self.closings.items()))}; "
            f"{self.extra_effects} side effects of killed runs; "
            f"{len(self.problems)} problem(s)"
        )


# --- the run --------------------------------------------------------------------------------


def enqueue_chaos(store: Store, jobs: int, effects: Path, work_ms: float) -> list[str]:
    """Put ``jobs`` chaos jobs (working ``work_ms`` before their side effect and half as long
    after it); returns their uuids."""
    values = {"effects": str(effects), "work_ms": work_ms, "after_ms": work_ms / 2}
    spec = JobSpec(
        type=CHAOS_TYPE,
        queue=CHAOS_QUEUE,
        values=values,
        ttr_seconds=TTR_SECONDS,
        max_retries=MAX_RETRIES,
    )
    uuids: list[str] = []
    for start in range(0, jobs, BATCH):
        uuids += store.enqueue_many([spec] * min(BATCH, jobs - start))
    return uuids


def run_chaos(
    store: Store,
    workdir: Path,
    jobs: int,
    work_ms: float = 100.0,
    kill_every: tuple[float, float] = (0.5, 2.0),
    timeout: float = 600.0,
) -> ChaosReport:
    """Run ``jobs`` jobs on 2 worker processes x 4 threads, SIGKILLing a random child every
    ``kill_every`` seconds until every job is final; then check everything."""
    effects = workdir / "effects.txt"
    uuids = enqueue_chaos(store, jobs, effects, work_ms)
    report = ChaosReport(jobs=jobs)
    flags = ("--workers", "2", "--threads", "4", "--interval", "0.05", "-q", CHAOS_QUEUE)
    started = time.monotonic()
    with Pool(
        store.settings.url,
        workdir / "pool.log",
        *flags,
        imports=("tests.reliability.chaos_jobs",),
    ) as pool:
        report.kills = _monkey(pool, store, jobs, kill_every, started + timeout)
        report.seconds = time.monotonic() - started
        code = pool.stop()
    if code != 0:
        report.problems.append(f"the supervisor exited with {code}")
    check(store, uuids, effects, report)
    return report


def _monkey(
    pool: Pool, store: Store, jobs: int, every: tuple[float, float], deadline: float
) -> int:
    """Kill a random child every ``every`` seconds until all jobs are final, but only once
    some jobs were finished since the last kill: on a loaded machine a child may need longer
    than ``every`` to start, and kills faster than the pool can start children would only
    measure the machine's load."""
    kills = 0
    next_kill = time.monotonic() + random.uniform(*every)
    last_kill_final = 0
    while (final := _final_count(store)) < jobs:
        assert time.monotonic() < deadline, f"only {final} of {jobs} jobs final"
        due = time.monotonic() >= next_kill and final >= last_kill_final + MIN_PROGRESS
        if due:
            children = pool.children()
            if children:
                os.kill(random.choice(children), signal.SIGKILL)
                kills += 1
                last_kill_final = final
            next_kill = time.monotonic() + random.uniform(*every)
        time.sleep(0.05)  # the monkey's own pace, not a wait for an effect.
    return kills


def _final_count(store: Store) -> int:
    counts = store.counts().get(CHAOS_QUEUE, {})
    return sum(n for state, n in counts.items() if state in FINAL)


# --- the checks -----------------------------------------------------------------------------


def check(store: Store, uuids: list[str], effects: Path, report: ChaosReport) -> None:
    """Run the three checks; problems go to ``report.problems``."""
    lines = _effects(effects, report)
    for uuid in uuids:
        record = store.get(uuid, history=True)
        report.states[record["state"]] += 1
        closed = check_leases(record, report)
        check_effects(record, closed, lines.get(uuid, Counter()), report)


def check_leases(record: Record, report: ChaosReport) -> dict[int, str]:
    """Check 1 and 2 on one job's history; returns how each lease (token) was closed."""
    uuid, history = record["uuid"], record["history"]
    problems = report.problems
    finals = [i for i, h in enumerate(history) if h["state"] in FINAL]
    if record["state"] not in FINAL or finals != [len(history) - 1]:
        problems.append(f"{uuid}: not exactly one final state, last: {history[-1:]}")
    closed: dict[int, str] = {}
    open_lease: tuple[int, dict[str, Any]] | None = None
    reservations = 0  # the k-th reservation holds lease token k.
    for entry in history:
        if entry["event"] == "reserved":
            reservations += 1
            if open_lease is not None:
                problems.append(f"{uuid}: reserved again while lease {open_lease[0]} was live")
            open_lease = (reservations, entry)
        elif open_lease is not None and entry["state"] != "running":
            token, opened = open_lease
            _check_closing(uuid, token, opened, entry, record["ttr_seconds"], problems)
            closed[token] = entry["event"]
            report.closings[entry["event"]] += 1
            open_lease = None
    return closed


def _check_closing(
    uuid: str,
    token: int,
    opened: dict[str, Any],
    entry: dict[str, Any],
    ttr: float,
    problems: list[str],
) -> None:
    if entry["event"] in RESCUES:
        if entry["at"] < opened["at"] + ttr:
            problems.append(f"{uuid}: lease {token} rescued before it could have expired")
    elif entry["event"] in SETTLED_BY_WORKER:
        if entry["worker"] != opened["worker"]:
            problems.append(f"{uuid}: lease {token} of {opened['worker']} settled by another")
    else:
        problems.append(f"{uuid}: lease {token} closed by unexpected {entry['event']!r}")


def check_effects(
    record: Record, closed: dict[int, str], lines: Counter[int], report: ChaosReport
) -> None:
    """Check 3 on one job: its side effects against the way each of its leases closed."""
    uuid = record["uuid"]
    for token, count in lines.items():
        if count > 1:
            report.problems.append(f"{uuid}: run {token} wrote its side effect {count} times")
        if token not in closed:
            report.problems.append(f"{uuid}: a side effect of run {token}, never settled")
    completions = [token for token, event in closed.items() if event == "completed"]
    if record["state"] == "complete":
        final = record["lease_token"]
        if completions != [final] or lines.get(final) != 1:
            report.problems.append(
                f"{uuid}: completed by runs {completions}, final token {final}, "
                f"its side effects {dict(lines)}"
            )
    report.extra_effects += sum(n for t, n in lines.items() if closed.get(t) != "completed")


def _effects(path: Path, report: ChaosReport) -> dict[str, Counter[int]]:
    """The side-effect lines, per job and run token."""
    found: dict[str, Counter[int]] = {}
    text = path.read_text() if path.exists() else ""
    for number, line in enumerate(text.splitlines(), start=1):
        parts = line.split()
        if len(parts) != 3:
            report.problems.append(f"side-effect line {number} is torn: {line!r}")
            continue
        found.setdefault(parts[0], Counter())[int(parts[1])] += 1
    return found
