"""The audit trail's vocabulary: who acts (:class:`Actor`, carried by a context variable
from the door an action came in by, the CLI or the HTTP API, to the store's facade, which
records it), the entry an operator action leaves, and how entries are asked for.

The actor travels in a context variable rather than in every call's arguments, so that no
route or command can forget to pass it: the CLI sets it once per command (``user@host``),
the HTTP API once per request (the token's name, else the client's address). Library code
that acts with none set is recorded as the process's ``user@host``, source ``api``.
"""

from __future__ import annotations

import contextvars
import getpass
import re
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from zerog.model import Change

TOKEN_NAME = re.compile(r"^([A-Za-z0-9_.@-]{1,64})=(.+)$")
"""A named API token, ``NAME=SECRET``: NAME is the actor of what its holder does."""
MAX_AUDIT_PAGE = 500  # entries one read returns at most.
DETAIL_CHARS = 500  # an entry's detail is cut past this.


@dataclass(frozen=True)
class Actor:
    """Who acts (a token's name, ``user@host``, an address) and by what door (``cli``,
    ``http 10.0.0.7``, ``api``)."""

    name: str
    source: str

    @property
    def label(self) -> str:
        """How a job's history names the actor: ``alice (http 10.0.0.7)``."""
        return f"{self.name} ({self.source})"


_actor: contextvars.ContextVar[Actor | None] = contextvars.ContextVar("zerog_actor", default=None)


def local_user() -> str:
    """``user@host`` of this process."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a bare container).
        user = "unknown"
    return f"{user}@{socket.gethostname()}"


def current_actor() -> Actor:
    """The actor set for this context, else this process's user, source ``api``."""
    return _actor.get() or Actor(local_user(), "api")


@contextmanager
def acting(actor: Actor) -> Iterator[Actor]:
    """Actions inside the block are recorded as ``actor``'s."""
    token = _actor.set(actor)
    try:
        yield actor
    finally:
        _actor.reset(token)


@dataclass(frozen=True, kw_only=True)
class AuditQuery:
    """Entries newest first, each filter exact when set; ``before``: entries older than this
    ``seq`` (the cursor of the next page)."""

    actor: str | None = None
    action: str | None = None
    target: str | None = None
    before: int | None = None
    limit: int = 100


def audit_entry(
    at: float, actor: Actor, action: str, target: str, detail: str | None = None
) -> dict[str, Any]:
    """The entry an action leaves (the backend adds its ``seq``)."""
    if detail is not None and len(detail) > DETAIL_CHARS:
        detail = detail[:DETAIL_CHARS] + "…"
    return {
        "at": at,
        "actor": actor.name,
        "source": actor.source,
        "action": action,
        "target": target,
        "detail": detail,
    }


def matches(entry: dict[str, Any], query: AuditQuery) -> bool:
    """Whether an entry passes the query's filters (for backends that filter in Python)."""
    return (
        (query.before is None or entry["seq"] < query.before)
        and (query.actor is None or entry["actor"] == query.actor)
        and (query.action is None or entry["action"] == query.action)
        and (query.target is None or entry["target"] == query.target)
    )


CHANGE_ACTIONS = (
    ("priority", "priority"),
    ("queue", "move"),
    ("delay_seconds", "reschedule"),
    ("add_tags", "tag"),
    ("remove_tags", "untag"),
    ("tracked", "track"),
    ("depend", "depend"),
    ("undepend", "undepend"),
    ("undepend_all", "undepend"),
)
"""The action a change of a job is audited as (its first field set), in this order."""


def audit_of_change(uuid: str, change: Change) -> tuple[str, str, str]:
    """(action, target, detail) of an operator's change of a job: ``priority``, ``move``,
    ``tag``..., the detail naming every field it sets."""
    set_fields = [
        (name, action, getattr(change, name))
        for name, action in CHANGE_ACTIONS
        if getattr(change, name) not in (None, (), [], False)
    ]
    action = set_fields[0][1] if set_fields else "change"
    detail = ", ".join(f"{name}={value!r}" for name, _a, value in set_fields)
    return action, uuid, detail
