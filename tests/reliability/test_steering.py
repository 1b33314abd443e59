"""Steering long jobs (issue 19) through real worker pools, on every store: a message reaches
a running job within 2 s and is in its history; an iterating job killed with SIGKILL redoes
at most its checkpoint interval; a paused one resumes on another process at its cursor.

The tests are those of ``tests/worker`` (written against SQLite), collected here again under
this suite's ``sqlite`` fixture, which runs each once per store."""

from __future__ import annotations

from tests.worker.test_iterate import (
    test_a_job_killed_at_60_percent_redoes_at_most_its_checkpoint_interval,
    test_a_job_paused_at_30_percent_resumes_on_another_process_at_its_cursor,
)
from tests.worker.test_messages import (
    test_a_message_reaches_a_running_job_within_two_seconds,
    test_messages_sent_to_wait_reach_the_next_run_through_a_callback,
)

__all__ = [
    "test_a_job_killed_at_60_percent_redoes_at_most_its_checkpoint_interval",
    "test_a_job_paused_at_30_percent_resumes_on_another_process_at_its_cursor",
    "test_a_message_reaches_a_running_job_within_two_seconds",
    "test_messages_sent_to_wait_reach_the_next_run_through_a_callback",
]
