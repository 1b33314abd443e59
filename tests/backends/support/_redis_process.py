"""One process of tests/backends/redis, run as a script (no pickling, nothing shared).

    python _redis_process.py drain URL BATCH   claim (BATCH at a time) and complete jobs of "q"
                                               until none is left
    python _redis_process.py wait URL ROUNDS   ROUNDS times: wait for work in "q" (up to 30 s)

It prints "ready" once the store is open and waits for a line on stdin, so that all processes
start at once. drain then prints one JSON line, {"done": [uuids], "errors": [...]}; wait
prints one per round, {"woken": bool, "at": the time it woke (time.time())}. The exit code
is 1 on an error.
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any

from zerog.model import Settlement
from zerog.store import Store


def drain(store: Store, batch: int) -> dict[str, Any]:
    """Claim and complete until nothing is ready; every error is reported."""
    report: dict[str, Any] = {"done": [], "errors": []}
    worker = f"pid-{os.getpid()}"
    try:
        taken = store.settle_batch([], ["q"], batch, worker)
        while taken:
            report["done"] += [r.lease.uuid for r in taken]
            finished = [(r.lease, Settlement.completed({"by": worker})) for r in taken]
            taken = store.settle_batch(finished, ["q"], batch, worker, strict=True)
    except Exception as exc:  # every error goes to the test, which fails on any.
        report["errors"].append(f"{type(exc).__name__}: {exc}")
    return report


def wait(store: Store, rounds: int) -> dict[str, Any]:
    """Block until woken (or 30 s), ``rounds`` times; print when each woke."""
    for _ in range(rounds):
        woken = store.wait_for_work(30.0, ["q"])
        print(json.dumps({"woken": woken, "at": time.time()}), flush=True)
    return {}


def main() -> int:
    mode, url = sys.argv[1], sys.argv[2]
    store = Store.from_url(url)
    try:
        store.waiter()  # made now, so that the wait below starts at once.
        print("ready", flush=True)
        sys.stdin.readline()
        if mode == "drain":
            report = drain(store, int(sys.argv[3]))
            print(json.dumps(report), flush=True)
        else:
            report = wait(store, int(sys.argv[3]))
    finally:
        store.close()
    return 1 if report.get("errors") else 0


if __name__ == "__main__":
    sys.exit(main())
