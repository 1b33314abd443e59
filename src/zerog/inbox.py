"""Messages to a running job: the bounds, the entry a message is stored as, and the one rule
every backend applies when one is posted.

An operator tells a long job something (a new rate, "skip the rest of this batch") without
stopping it. A message is appended to the job's ``inbox`` (a list in its record) and to its
history, in one step; a running job's ``control`` becomes ``message`` (unless a cancel or
pause is pending, which matters more), so the next heartbeat's answer tells the worker to
take the inbox (:meth:`~zerog.backends.contract.Messages.take_messages`), which empties it.
A job that is not running gets the message at its next run when the sender asked for that
(``queue_if_idle``); otherwise the message is refused, so nobody believes a finished or
waiting job heard it. Both bounds keep a record from growing without limit.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

from zerog.errors import InboxFull, NotRunning
from zerog.model import FINAL_STATES, State
from zerog.record import cut, to_json

MAX_MESSAGE_BYTES = 16 * 1024  # one message's body as JSON.
MAX_PENDING_MESSAGES = 100  # messages a job's inbox holds until the job takes them.
HISTORY_DETAIL_CHARS = 500  # a message's body as the history shows it (cut past this).

DELIVERED = "message"  # history event: the job runs, its worker takes it within seconds.
QUEUED = "message-queued"  # history event: it waits for the job's next run.


def new_message(body: Any, sender: str | None, at: float) -> dict[str, Any]:
    """The stored entry of a message: an id (to tell repeats apart), when, who, the body.
    Raises NotSerializable or PayloadTooLarge before anything is stored."""
    to_json(body, "a message", MAX_MESSAGE_BYTES)
    return {"id": secrets.token_hex(8), "at": at, "sender": sender, "body": body}


def admit(uuid: str, state: str, pending: int, queue_if_idle: bool, limit: int) -> str:
    """The history event of a message to a job in ``state`` with ``pending`` messages
    waiting, or the refusal: NotRunning (a finished job; an idle one unless
    ``queue_if_idle``), InboxFull (``limit`` reached)."""
    if state == State.RUNNING.value:
        event = DELIVERED
    elif queue_if_idle and State(state) not in FINAL_STATES:
        event = QUEUED
    else:
        raise NotRunning(uuid, state)
    if pending >= limit:
        raise InboxFull(uuid, limit)
    return event


def detail(message: dict[str, Any]) -> str:
    """What the history says of a message: its body as JSON, cut to a readable length."""
    text = json.dumps(message["body"], separators=(",", ":"), ensure_ascii=False)
    return cut(text, HISTORY_DETAIL_CHARS)
