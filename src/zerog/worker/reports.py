"""What a worker child tells its supervisor, over a pipe: one JSON object per line.

The child says who it is (``hello``), which leases it holds (``start`` / ``end`` of each lease,
``run`` / ``ran`` around the run itself, since a batch claims jobs before they run),
that its heartbeat thread is alive (``beat``, every tick) and when an operator asked a running
job to stop (``control``). With this the supervisor can settle the jobs of a child that died
at once, keep the leases of a child whose heartbeat thread is starved of the GIL, and
terminate a child whose job ignores a cancel. JSON, never pickle: a child's bytes are data.

Each line is written with one ``write`` of less than ``PIPE_BUF`` bytes, which the kernel keeps
whole even when several threads write at once. The child's end never blocks: were the pipe
full (a supervisor that stopped reading), a report is dropped, and the supervisor falls back
on what the store says (a lease it did not hear of expires and is rescued as usual).
"""

from __future__ import annotations

import json
import logging
import os
import select
from typing import Any

log = logging.getLogger(__name__)

HELLO = "hello"  # worker: the child's worker id; pid.
START = "start"  # uuid, token, ttr: the child holds this lease (sent right after reserve).
RUN = "run"  # uuid, token: the job began to run (it may wait in the child's batch before).
RAN = "ran"  # uuid, token: the run ended; its settlement waits in the child's batch.
END = "end"  # uuid, token: the lease is over (the run settled, or could not).
BEAT = "beat"  # the heartbeat thread ticked; jobs: how many runs it watches.
CONTROL = "control"  # uuid, token, control: an operator's request reached the job.

MAX_LINE = select.PIPE_BUF  # at least 512 (POSIX); 4096 on Linux.
READ_SIZE = 65536


class Reporter:
    """The child's end: sends reports, never blocking."""

    def __init__(self, fd: int) -> None:
        os.set_blocking(fd, False)
        self.fd: int | None = fd
        self.dropped = 0

    def send(self, kind: str, **fields: Any) -> None:
        """Write one report; dropped (and counted) if the pipe is full or closed."""
        if self.fd is None:
            return
        line = json.dumps({"e": kind, **fields}, separators=(",", ":")).encode() + b"\n"
        if len(line) > MAX_LINE:
            log.warning("report %s too long to send whole (%d bytes); dropped", kind, len(line))
            self.dropped += 1
            return
        try:
            os.write(self.fd, line)
        except (BlockingIOError, BrokenPipeError):
            self.dropped += 1

    def close(self) -> None:
        """Close the pipe (the supervisor reads end-of-file)."""
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


class ReportReader:
    """The supervisor's end of one child's pipe."""

    def __init__(self, fd: int) -> None:
        os.set_blocking(fd, False)
        self.fd = fd
        self.closed = False
        self._partial = b""

    def read(self) -> list[dict[str, Any]]:
        """Every complete report available now; sets ``closed`` at end-of-file."""
        chunks = []
        while not self.closed:
            try:
                chunk = os.read(self.fd, READ_SIZE)
            except BlockingIOError:
                break
            if not chunk:
                self.closed = True
                break
            chunks.append(chunk)
        data = self._partial + b"".join(chunks)
        *lines, self._partial = data.split(b"\n")
        return [report for line in lines if (report := _parse(line)) is not None]

    def close(self) -> None:
        """Close the supervisor's end."""
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1
            self.closed = True


def _parse(line: bytes) -> dict[str, Any] | None:
    try:
        report = json.loads(line)
    except ValueError:
        log.warning("unreadable report from a worker child: %r", line[:200])
        return None
    return report if isinstance(report, dict) else None
