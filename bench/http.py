"""The HTTP API's speed: enqueue throughput under concurrent load, and read latencies with a
large store (1,000,000 jobs on SQLite by default).

    python bench/http.py [--url sqlite:///build/bench/http.db] [--jobs 1000000]
                         [--enqueue 20000] [--concurrency 64] [--reads 2000] [--runs 3]

See :mod:`_http_bench` for what is measured and how.
"""

from __future__ import annotations

import sys
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
# This script is named http.py, and Python puts its folder first on the module path, where it
# would hide the standard library's http package: move the folder to the end of the path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != BENCH_DIR] + [str(BENCH_DIR)]

from _http_bench import main  # noqa: E402 - only after the path is fixed.

if __name__ == "__main__":
    sys.exit(main())
