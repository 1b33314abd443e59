"""Close a backend while four threads read and write it, as a script: the process must
survive (closing a connection under a call crashes it in SQLite's or libpq's C code).

    python _close_race.py URL    prints one JSON line: what each thread ended with
"""

from __future__ import annotations

import json
import sys
import threading
import time

from zerog.backends import open_backend
from zerog.errors import BackendUnavailable
from zerog.model import ListQuery
from zerog.record import JobSpec, new_record

THREADS = 4


def main(url: str) -> None:
    backend = open_backend(url)
    spec = JobSpec(type="t", queue="q")
    uuid = backend.put(new_record(spec, time.time())).uuid
    outcomes: list[str] = []
    start = threading.Barrier(THREADS + 1)

    def busy() -> None:
        start.wait()
        try:
            while True:
                backend.list(ListQuery(limit=50))
                backend.get(uuid, history=True)
                backend.put(new_record(spec, time.time()))
        except BackendUnavailable:
            outcomes.append("unavailable")
        except Exception as exc:  # reported, so the test shows what leaked.
            outcomes.append(f"{type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=busy) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    start.wait()
    time.sleep(0.1)
    backend.close()
    for thread in threads:
        thread.join(10)
    print(json.dumps(outcomes))


if __name__ == "__main__":
    main(sys.argv[1])
