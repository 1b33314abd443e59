"""Log records one per line: what a job logs cannot forge lines in the worker's log.

A job's message (``job_log.info("done\\n2026-01-01 ERROR ...")``) and a traceback both hold
newlines; written as they are, a reader or a log shipper takes each line for a record of its
own. :class:`OneLineFormatter` escapes carriage returns, newlines and the other control
characters of the whole formatted record (message and traceback alike), so every record is
exactly one line, greppable and unforgeable.
"""

from __future__ import annotations

import logging

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

_ESCAPES = {code: f"\\x{code:02x}" for code in range(32) if code != 9}
_ESCAPES.update({ord("\n"): "\\n", ord("\r"): "\\r", 0x7F: "\\x7f"})


def one_line(text: str) -> str:
    """``text`` with newlines and other control characters escaped (tabs kept)."""
    return text.translate(_ESCAPES)


class OneLineFormatter(logging.Formatter):
    """A formatter whose every record is one line (see the module's docstring)."""

    def format(self, record: logging.LogRecord) -> str:
        return one_line(super().format(record))
