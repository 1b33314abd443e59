"""One process of test_sqlite_processes.py, run as a script (no pickling, nothing shared).

    python _sqlite_process.py open URL    open the backend and put one job
    python _sqlite_process.py drain URL   reserve and complete jobs of "q" until none is left

It prints "ready" once imported, waits for a line on stdin so that all processes start at
once, then prints one JSON line: {"done": [uuids], "errors": [...], "busy_retries": n}.
Any exception is reported, never swallowed; the exit code is 1 when there was one.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from zerog.backends import open_backend
from zerog.record import JobSpec
from zerog.store import Store


def work(mode: str, url: str) -> dict[str, Any]:
    """Do the mode's work; report what was done and every error seen."""
    report: dict[str, Any] = {"done": [], "errors": [], "busy_retries": 0}
    backend = None
    try:
        backend = open_backend(url)
        store = Store(backend)
        if mode == "open":
            report["done"].append(store.enqueue(JobSpec(type="t", queue="opened")))
        else:
            worker = f"pid-{os.getpid()}"
            while (reservation := store.reserve(["q"], worker)) is not None:
                store.complete(reservation.lease, {"by": worker})
                report["done"].append(reservation.lease.uuid)
    except Exception as exc:  # every error goes to the test, which fails on any.
        report["errors"].append(f"{type(exc).__name__}: {exc}")
    finally:
        if backend is not None:
            report["busy_retries"] = getattr(backend, "busy_retries", 0)
            backend.close()
    return report


def main() -> int:
    mode, url = sys.argv[1], sys.argv[2]
    print("ready", flush=True)
    sys.stdin.readline()
    report = work(mode, url)
    print(json.dumps(report), flush=True)
    return 1 if report["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
