"""Crash points between the two writes of a step, for the tests that kill a process there.

A test runs a step in a child process that first sets :data:`AT` to a point's name; when the
step reaches it the child dies at once (``os._exit``: no cleanup, no COMMIT, sockets closed
by the kernel), as a SIGKILL would leave it. Nothing sets :data:`AT` outside those tests.

Points: ``put:entered`` (the entry is put, the store has not committed), ``reserve:taken``
(an entry is reserved, the store not asked), ``settle:stored`` (the store committed a
settlement, the entry has not followed); ``act:entered``, ``rescue:entered``,
``settle:entered`` (a settlement gave a released dependent or an advanced job its entry),
``alter:entered`` and ``spawn:entered`` (an entry was given to a job, the store has not
committed).
"""

from __future__ import annotations

import os

EXIT_CODE = 86  # what a child that died at a crash point exits with.
AT: str | None = None


def point(name: str) -> None:
    """Die here if a test asked for it."""
    if name == AT:
        os._exit(EXIT_CODE)
