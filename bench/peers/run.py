"""zerog beside the job systems users would pick instead: same machine, same servers, one run.

    python bench/peers/run.py [--runs 3] [--only zerog-sqlite,huey-sqlite]
                              [--workloads W2,W3] [--jobs 10000] [--retries 2]
                              [--threshold 0.3] [--out bench/results]

``make bench-peers`` builds the environment (its own venv with the pinned peers) and runs
this. It starts its own redis-server and beanstalkd on free ports and makes a PostgreSQL
database per run on 127.0.0.1:5432, and stops and drops all of it at the end, Ctrl-C
included. Each run of each cell records the load other processes put on the machine while it
measured; a run above ``--threshold`` cores of it is repeated up to ``--retries`` times, and
marked disturbed if it stays so. Prints a table per store and writes JSON and Markdown
under ``--out``. README.md beside this file says what each number is and how it is taken.
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import time
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import report
from servers import Servers
from session import NotAvailable, Session
from systems import BY_NAME, SYSTEMS, System
from workloads import WORKLOADS, Result, Sizes, describe

RESULTS = Path(__file__).resolve().parents[1] / "results"


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per cell (the median is shown)")
    parser.add_argument("--only", default="", help="systems, comma-separated (default: all)")
    parser.add_argument("--workloads", default="W1,W2,W3,W4,W5")
    parser.add_argument("--jobs", type=int, default=10_000, help="jobs of W1 and W2")
    parser.add_argument("--progress-jobs", type=int, default=1_000, help="running jobs of W5")
    parser.add_argument(
        "--threshold",
        type=float,
        default=0.3,
        help="other processes' load, in cores, above which a run is repeated",
    )
    parser.add_argument("--retries", type=int, default=2, help="repeats of a disturbed run")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    unknown = [n for n in names(args.only) if n not in BY_NAME]
    if unknown:
        parser.error(f"unknown systems {unknown}; known: {', '.join(BY_NAME)}")
    if bad := [w for w in names(args.workloads) if w not in WORKLOADS]:
        parser.error(f"unknown workloads {bad}; known: {', '.join(WORKLOADS)}")
    return args


def names(text: str) -> list[str]:
    return [n.strip() for n in text.split(",") if n.strip()]


def measure(
    servers: Servers, system: System, workload: str, sizes: Sizes, args: argparse.Namespace
) -> dict[str, Any]:
    """One run of a cell, repeated while others loaded the machine; the least disturbed."""
    tries: list[Result] = []
    for _ in range(1 + args.retries):
        tries.append(WORKLOADS[workload](lambda: Session.open(servers, system), sizes))
        if tries[-1].other_cores <= args.threshold:
            break
    best = min(tries, key=lambda r: r.other_cores)
    cell = describe(best)
    cell.update(tries=len(tries), disturbed=best.other_cores > args.threshold)
    return cell


def run_all(servers: Servers, args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    """Every selected cell ``--runs`` times, runs outermost so that a slow spell of the machine
    falls on every system alike."""
    chosen = [BY_NAME[n] for n in names(args.only)] or SYSTEMS
    sizes = Sizes(jobs=args.jobs, progress_jobs=args.progress_jobs)
    cells: dict[str, dict[str, Any]] = {s.name: {} for s in chosen}
    for number in range(1, args.runs + 1):
        for system in chosen:
            for workload in names(args.workloads):
                cell = cells[system.name].setdefault(workload, {"runs": []})
                if workload in system.skip:
                    cell["na"] = system.skip[workload]
                elif "na" not in cell:
                    one_cell(servers, system, workload, sizes, args, cell, number)
    return cells


def one_cell(
    servers: Servers,
    system: System,
    workload: str,
    sizes: Sizes,
    args: argparse.Namespace,
    cell: dict[str, Any],
    number: int,
) -> None:
    label = f"run {number}/{args.runs} {system.name:<18} {workload}"
    began = time.monotonic()
    try:
        measured = measure(servers, system, workload, sizes, args)
    except NotAvailable as exc:
        cell["na"] = str(exc)
        print(f"{label}: n/a: {exc}", flush=True)
        return
    except Exception as exc:  # a failed cell is reported; the others still run.
        cell.setdefault("errors", []).append(str(exc).splitlines()[0] if str(exc) else repr(exc))
        print(f"{label}: FAILED: {exc}", flush=True)
        traceback.print_exc()
        return
    cell["runs"].append(measured)
    shown = ", ".join(f"{k} {v:,.2f}" for k, v in measured["metrics"].items())
    flag = " DISTURBED" if measured["disturbed"] else ""
    print(
        f"{label}: {shown} (other load {measured['other_cores']:.2f} cores, "
        f"{measured['tries']} tries, {time.monotonic() - began:.0f} s){flag}",
        flush=True,
    )


@contextlib.contextmanager
def stopped_on_sigterm() -> Iterator[None]:
    """SIGTERM ends the suite through its finally blocks, as Ctrl-C does."""

    def stop(*_: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    started = time.time()
    with stopped_on_sigterm():
        servers = Servers()
        try:
            cells = run_all(servers, args)
            meta = report.meta(args, servers, started)
        finally:
            servers.close()
    print(report.text(cells, meta))
    written = report.write(cells, meta, args.out)
    print("written: " + ", ".join(str(p) for p in written))
    return 0


if __name__ == "__main__":
    sys.exit(main())
