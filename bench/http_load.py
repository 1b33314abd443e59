"""The HTTP API's speed: enqueue throughput under concurrent load, and read latencies with a
large store (1,000,000 jobs on SQLite by default).

    python bench/http_load.py [--url sqlite:///build/bench/http.db] [--jobs 1000000]
                              [--enqueue 20000] [--concurrency 64] [--reads 2000] [--runs 3]

See :mod:`_http_bench` for what is measured and how.
"""

from __future__ import annotations

import sys

from _http_bench import main  # found beside this script (its folder is first on the path).

if __name__ == "__main__":
    sys.exit(main())
