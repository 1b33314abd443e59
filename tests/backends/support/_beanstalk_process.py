"""One step of the beanstalk backend run in a process of its own, dying where a test says.

    python _beanstalk_process.py URL CRASH_POINT ACTION [ARGS...]

CRASH_POINT is one of :mod:`zerog.backends.beanstalk._crash`'s points (or ``none``); the
process dies there with ``_crash.EXIT_CODE``, leaving beanstalkd and the store as a SIGKILL
would. Actions, all on queue "q": ``put UUID``; ``hold`` (reserve, then die while the job
runs); ``complete`` / ``fail`` / ``retry`` (reserve, then settle so); ``act UUID ACTION``;
``rescue``. Without a crash it prints ``done`` and exits 0.
"""

from __future__ import annotations

import os
import sys

from zerog.backends import open_backend
from zerog.backends.beanstalk import _crash
from zerog.record import JobSpec, error_entry
from zerog.store import Store


def run(store: Store, action: str, args: list[str]) -> None:
    """Do one action (see the module docstring)."""
    if action == "put":
        store.enqueue(JobSpec(type="t", queue="q", uuid=args[0], ttr_seconds=1.0))
    elif action == "act":
        store.act(args[0], args[1])
    elif action == "rescue":
        store.rescue_expired()
    else:
        reservation = store.reserve(["q"], f"child-{os.getpid()}")
        assert reservation is not None, "nothing to reserve"
        settle(store, action, reservation.lease)


def settle(store: Store, action: str, lease: object) -> None:
    """End the reserved run as ``action`` says (``hold``: die while it runs)."""
    from zerog.model import Lease

    assert isinstance(lease, Lease)
    if action == "hold":
        os._exit(_crash.EXIT_CODE)
    elif action == "complete":
        store.complete(lease, "done by the child")
    elif action == "fail":
        store.fail(lease, error_entry(store.clock(), None, "failed in the child"))
    elif action == "retry":
        store.retry(lease, 0.0, error_entry(store.clock(), None, "retried in the child"))
    else:
        raise SystemExit(f"unknown action {action!r}")


def main() -> int:
    url, point, action, *args = sys.argv[1:]
    _crash.AT = None if point == "none" else point
    store = Store(open_backend(url))
    try:
        run(store, action, args)
    finally:
        store.close()
    print("done")
    return 0


if __name__ == "__main__":
    sys.exit(main())
