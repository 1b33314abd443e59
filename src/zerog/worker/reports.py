"""What a worker child tells its supervisor, over a pipe: lines of JSON arrays of reports.

The child says who it is (``hello``), which leases it holds (``start`` / ``end`` of each lease,
``run`` / ``ran`` around the run itself, since a batch claims jobs before they run),
that its heartbeat thread is alive (``beat``, every tick) and when an operator asked a running
job to stop (``control``). With this the supervisor can settle the jobs of a child that died
at once, keep the leases of a child whose heartbeat thread is starved of the GIL, and
terminate a child whose job ignores a cancel. JSON, never pickle: a child's bytes are data.

Reports are held back and sent together (one line) where a few moments' delay changes
nothing, so a worker running short jobs writes once per job, not once per report. Each line
is written with one ``write`` of less than ``PIPE_BUF`` bytes, which the kernel keeps
whole even when several threads write at once. The child's end never blocks: were the pipe
full (a supervisor that stopped reading), a report is dropped, and the supervisor falls back
on what the store says (a lease it did not hear of expires and is rescued as usual).
"""

from __future__ import annotations

import json
import logging
import os
import select
import threading
from collections.abc import Iterator
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
_ENCODER = json.JSONEncoder(separators=(",", ":"))  # one encoder, not one per report.
READ_SIZE = 65536


class Reporter:
    """The child's end: sends reports, never blocking."""

    def __init__(self, fd: int) -> None:
        os.set_blocking(fd, False)
        self.fd: int | None = fd
        self.dropped = 0
        self._lock = threading.Lock()
        self._pending: list[dict[str, Any]] = []

    def send(self, kind: str, **fields: Any) -> None:
        """Write one report now (with any held back before it)."""
        self.hold(kind, **fields)
        self.flush()

    def hold(self, kind: str, **fields: Any) -> None:
        """Keep a report for the next :meth:`flush`: a worker running short jobs sends what
        a batch did in one write of one line instead of a write per report."""
        with self._lock:
            self._pending.append({"e": kind, **fields})

    def flush(self) -> None:
        """Write the reports held back, as lines of JSON arrays under ``MAX_LINE`` bytes;
        dropped (and counted) if the pipe is full or closed."""
        with self._lock:
            pending, self._pending = self._pending, []
            if self.fd is None or not pending:
                return
            for line, count in _lines(pending):
                try:
                    os.write(self.fd, line)
                except (BlockingIOError, BrokenPipeError):
                    self.dropped += count

    def close(self) -> None:
        """Send what is held back and close the pipe (the supervisor reads end-of-file)."""
        self.flush()
        with self._lock:
            if self.fd is not None:
                os.close(self.fd)
                self.fd = None


def _lines(reports: list[dict[str, Any]]) -> Iterator[tuple[bytes, int]]:
    """The reports as lines of JSON arrays, each under ``MAX_LINE`` bytes (a pipe write that
    small is never interleaved with another thread's), with how many reports each holds. A
    report too long to send whole on its own is dropped."""
    line = _encode(reports)
    if len(line) <= MAX_LINE:
        yield line, len(reports)
    elif len(reports) > 1:
        half = len(reports) // 2
        yield from _lines(reports[:half])
        yield from _lines(reports[half:])
    else:
        log.warning(
            "report %s too long to send whole (%d bytes); dropped", reports[0]["e"], len(line)
        )


def _encode(reports: list[dict[str, Any]]) -> bytes:
    return _ENCODER.encode(reports).encode() + b"\n"


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
        return [report for line in lines for report in _parse(line)]

    def close(self) -> None:
        """Close the supervisor's end."""
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1
            self.closed = True


def _parse(line: bytes) -> list[dict[str, Any]]:
    """The reports of one line: a JSON array of objects (an object alone is one report)."""
    try:
        parsed = json.loads(line)
    except ValueError:
        log.warning("unreadable report from a worker child: %r", line[:200])
        return []
    reports = parsed if isinstance(parsed, list) else [parsed]
    return [report for report in reports if isinstance(report, dict)]
