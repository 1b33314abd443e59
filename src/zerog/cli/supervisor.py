"""``zerog worker --workers N``: N worker processes under one parent that forwards signals.

A deliberately small supervisor: it starts N ``python -m zerog worker`` children with the
same flags, turns each SIGTERM or SIGINT it receives into one SIGTERM to every child (the
first drains, a second stops at once) and exits when all children have exited: 0 if each did
cleanly. The children ignore SIGINT, so the Ctrl-C a terminal sends to the whole process group
reaches them once, through the parent, not twice. It does not respawn or recycle children.
"""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import time
from collections.abc import Sequence

from zerog.cli._common import EXIT_FAILURE, EXIT_OK
from zerog.worker import StopFlags, stop_on_signals

log = logging.getLogger(__name__)

SUPERVISED_FLAG = "--supervised"  # hidden: tells a child that its parent handles SIGINT.
POLL_SECONDS = 0.1  # how often the parent looks at signals and children.


def child_command(argv: Sequence[str]) -> list[str]:
    """The child's command: the parent's own worker flags, one process each."""
    return [sys.executable, "-m", "zerog", *argv, "--workers", "1", SUPERVISED_FLAG]


def supervise(argv: Sequence[str], count: int) -> int:
    """Run ``count`` children until they exit; forward stop requests as SIGTERM."""
    flags = StopFlags()
    with stop_on_signals(flags):
        children = [
            subprocess.Popen(child_command(argv), stdin=subprocess.DEVNULL) for _ in range(count)
        ]
        log.info(
            "supervisor: started %d worker(s): %s", count, ", ".join(str(c.pid) for c in children)
        )
        forwarded = _wait(children, flags)
    return _exit_code(children, forwarded)


def _wait(children: list[subprocess.Popen[bytes]], flags: StopFlags) -> int:
    """Wait for every child; returns how many SIGTERMs were forwarded."""
    forwarded = 0
    while any(child.poll() is None for child in children):
        wanted = 2 if flags.now.is_set() else 1 if flags.draining.is_set() else 0
        while forwarded < wanted:
            forwarded += 1
            log.info("supervisor: forwarding SIGTERM %d to the workers", forwarded)
            for child in children:
                if child.poll() is None:
                    child.send_signal(signal.SIGTERM)
        time.sleep(POLL_SECONDS)
    return forwarded


def _exit_code(children: list[subprocess.Popen[bytes]], forwarded: int) -> int:
    """0 if every child exited cleanly; one killed by a forwarded SIGTERM before it could set
    up its handlers had no job yet, and counts as clean."""
    clean = {0, -signal.SIGTERM} if forwarded else {0}
    codes = [child.returncode for child in children]
    if all(code in clean for code in codes):
        return EXIT_OK
    log.error("supervisor: worker exit codes %s", codes)
    return EXIT_FAILURE
