"""Four processes racing to reserve from a recurrence's queue: the shared part of the SQLite
and beanstalk tests that each tick of the schedule spawns exactly one job."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Any

from zerog.backends.contract import Backend
from zerog.model import ListQuery
from zerog.recurrence import RecurSpec, new_recurrence

INTERVAL = 0.1  # seconds between ticks
RACERS = 4
SECONDS = 4  # how long each racer reserves

RACER = """
import json, sys, time
from zerog.backends import open_backend
backend = open_backend(sys.argv[1])
print("ready", flush=True)
sys.stdin.readline()
done, deadline = [], time.time() + float(sys.argv[2])
from zerog.model import ReserveRequest, Settlement, State
while time.time() < deadline:
    reservation = backend.reserve(ReserveRequest(queues=["tick"], worker="w"))
    if reservation is None:
        time.sleep(0.002)
        continue
    backend.settle(reservation.lease, Settlement(state=State.COMPLETE, event="completed"))
    done.append(reservation.lease.uuid)
backend.close()
print(json.dumps(done), flush=True)
"""


@dataclass(frozen=True)
class Race:
    """What the race left: the recurrence, the jobs it spawned, and the jobs each racer ran."""

    first_due: float
    recurrence: dict[str, Any]
    spawned: list[dict[str, Any]]
    ran: list[str]


def race(url: str, backend: Backend) -> Race:
    """Store a recurrence (id ``every``) every :data:`INTERVAL` s, let :data:`RACERS`
    processes reserve and complete from its queue for :data:`SECONDS` s, and read the rest."""
    doc = new_recurrence(
        RecurSpec(type="t", queue="tick", interval_seconds=INTERVAL, id="every"), time.time()
    )
    backend.recur(doc)
    with contextlib.ExitStack() as stack:
        racers = [
            stack.enter_context(
                subprocess.Popen(
                    [sys.executable, "-c", RACER, url, str(SECONDS)],
                    text=True,
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                )
            )
            for _ in range(RACERS)
        ]
        for racer in racers:
            assert racer.stdout is not None
            assert racer.stdout.readline() == "ready\n"
        for racer in racers:
            assert racer.stdin is not None
            racer.stdin.write("go\n")
            racer.stdin.flush()
        outputs = [racer.communicate(timeout=60)[0] for racer in racers]
    assert [racer.returncode for racer in racers] == [0] * RACERS
    (stored,) = backend.recurrences()
    return Race(
        first_due=doc["next_at"],
        recurrence=stored,
        spawned=backend.list(ListQuery(recurrence="every", limit=500)).records,
        ran=[uuid for out in outputs for uuid in json.loads(out.splitlines()[-1])],
    )


def assert_one_job_per_tick(result: Race) -> None:
    """The recurrence advanced one interval per job; its jobs are numbered 1..n with no gap
    and no double; each ran at most once."""
    ticks = result.recurrence["count"]
    assert ticks >= 30
    assert abs(result.recurrence["next_at"] - (result.first_due + ticks * INTERVAL)) < 0.001
    assert sorted(r["uuid"] for r in result.spawned) == sorted(
        f"every-{n}" for n in range(1, ticks + 1)
    )
    assert len(result.ran) == len(set(result.ran))
    assert set(result.ran) <= {r["uuid"] for r in result.spawned}
