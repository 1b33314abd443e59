"""Two source trees of zerog side by side, in one run: before and after a change.

    python bench/ab.py --before /path/to/old/checkout --after . \\
        --url sqlite:///build/bench/ab.db --jobs 10000 --runs 5

Runs ``bench/drain.py --runs 1`` (this checkout's copy, so both trees are driven the same
way) alternately with each tree first on ``PYTHONPATH``, ``--runs`` times each, so that both
meet the same disturbances; prints each run's rates, the medians, and after / before. The
workers the drain starts inherit ``PYTHONPATH``, so they run the tree under test too.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
RATE = re.compile(r"([^,:]+?) ([\d,]+)/s")


def one(tree: Path, args: argparse.Namespace) -> dict[str, float]:
    """One run of the drain benchmark with ``tree``'s zerog."""
    env = {**os.environ, "PYTHONPATH": str(tree.resolve() / "src")}
    command = [sys.executable, str(BENCH / "drain.py"), "--url", args.url]
    command += ["--jobs", str(args.jobs), "--runs", "1", "--workers", str(args.workers)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    line = next(line for line in done.stdout.splitlines() if line.startswith("run 1:"))
    return {name.strip(): float(rate.replace(",", "")) for name, rate in RATE.findall(line[6:])}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", type=Path, required=True)
    parser.add_argument("--after", type=Path, required=True)
    parser.add_argument("--url", required=True)
    parser.add_argument("--jobs", type=int, default=10000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    runs: dict[str, list[dict[str, float]]] = {"before": [], "after": []}
    for number in range(args.runs):
        for name in ("before", "after") if number % 2 == 0 else ("after", "before"):
            runs[name].append(one(getattr(args, name), args))
            print(f"run {number + 1} {name}: {runs[name][-1]}", flush=True)
    print(f"\nmedians of {args.runs} runs each, {args.jobs:,} jobs, {args.url}")
    for key in runs["before"][0]:
        before = statistics.median(r[key] for r in runs["before"])
        after = statistics.median(r.get(key, 0.0) for r in runs["after"])
        print(f"  {key:<55} before {before:>8,.0f}  after {after:>8,.0f}  x{after / before:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
