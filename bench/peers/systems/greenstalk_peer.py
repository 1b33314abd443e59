"""The raw beanstalkd floor: greenstalk put, and a reserve/run/delete loop per thread.

No framework: what any queue on beanstalkd has to do at least per job. Its workers are
``python -m systems.greenstalk_peer`` processes, each with ``ZB_CONCURRENCY`` threads (1
by default), every thread on its own connection blocking in ``reserve``.
"""

from __future__ import annotations

import json
import threading

import greenstalk
from peer import concurrency, env
from sidechannel import Job, no_report, perform


def address() -> tuple[str, int]:
    host, port = env("ZB_BEANSTALK").split(":")
    return host, int(port)


def consume() -> None:
    """Reserve, run, delete, forever (the runner stops the process)."""
    tube = env("ZB_TUBE")
    with greenstalk.Client(address(), use=tube, watch=tube) as client:
        while True:
            entry = client.reserve()
            args = json.loads(entry.body)
            perform(args["kind"], args["enqueued"], args["seconds"], no_report)
            client.delete(entry)


def main() -> None:
    threads = [threading.Thread(target=consume, daemon=True) for _ in range(concurrency() or 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


class Producer:
    """``put`` one by one; beanstalkd has no bulk put."""

    def __init__(self) -> None:
        self.client = greenstalk.Client(address(), use=env("ZB_TUBE"))

    def one(self, job: Job) -> None:
        self.client.put(json.dumps(job.as_dict()))

    def bulk(self, jobs: list[Job]) -> None:
        raise NotImplementedError("beanstalkd has no bulk put")

    def close(self) -> None:
        self.client.close()


if __name__ == "__main__":
    main()
