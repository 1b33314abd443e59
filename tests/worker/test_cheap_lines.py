"""The per-job costs kept cheap keep their content: the log line of a run's end (its words,
its source, its event) and the attempt's figures (the mark read with the thread's CPU)."""

from __future__ import annotations

import logging
import resource

import pytest

from zerog.logs import _ESCAPES, one_line
from zerog.model import Settlement
from zerog.worker import lifelog, procinfo, usage

RECORD = {"uuid": "u-1", "type": "t", "queue": "q", "attempts": 1, "max_retries": 2}


def test_one_line_escapes_every_control_character_and_leaves_plain_text_alone() -> None:
    for code in range(256):
        text = f"a{chr(code)}b"
        expected = f"a{_ESCAPES[code]}b" if code in _ESCAPES else text
        assert one_line(text) == expected, code
    assert one_line("job 1 completed\tafter 0.1 s") == "job 1 completed\tafter 0.1 s"


def test_a_run_end_line_says_the_same_as_before(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger="zerog.jobs"):
        since = lifelog.started(RECORD)
        lifelog.ended(RECORD, Settlement.completed(), since)
    start, end = caplog.records
    assert start.getMessage() == "job u-1 started: t in q, attempt 1 of 3"
    assert start.levelno == logging.DEBUG
    assert start.__dict__["event"] == "job.started"
    assert end.getMessage().startswith("job u-1 completed after 0.0 s (t in q)")
    assert end.levelno == logging.INFO
    assert end.__dict__["job_id"] == "u-1"
    assert (end.filename, end.funcName, end.name) == ("lifelog.py", "ended", "zerog.jobs")


def test_a_failed_run_is_a_warning_with_its_error(caplog: pytest.LogCaptureFixture) -> None:
    failed = Settlement.failed({"msg": "boom\nsecond line"})
    with caplog.at_level(logging.WARNING, logger="zerog.jobs"):
        lifelog.ended(RECORD, failed, 0.0)
    (line,) = caplog.records
    assert line.levelno == logging.WARNING
    assert line.getMessage().endswith("(t in q): boom")


def test_a_quiet_log_makes_no_record(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="zerog.jobs"):
        lifelog.ended(RECORD, Settlement.completed(), lifelog.started(RECORD))
    assert caplog.records == []


def test_the_mark_read_with_the_thread_cpu_is_the_process_mark() -> None:
    user, system, peak = usage._sample()
    assert user >= 0
    assert system >= 0
    whole = procinfo.maxrss_bytes(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    assert abs(peak - whole) <= 1 << 20  # the same mark, read a moment apart.
    figures = usage.Meter(1).read()
    assert figures["peak_rss_bytes"] >= figures["start_rss_bytes"] > 0
    assert figures["scope"] == "thread"
