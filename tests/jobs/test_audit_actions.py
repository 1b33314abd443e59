"""Every operator action of issue 19's list leaves one audit entry naming the actor, its
source, the action and its target, whatever door it came in by: this table drives the
store's own methods, which the CLI and the HTTP API call (tests/cli/test_cli_audit.py and
tests/http/test_audit.py drive those doors)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from zerog.audit import Actor, acting
from zerog.backends.memory import MemoryBackend
from zerog.model import Change
from zerog.record import JobSpec
from zerog.recurrence import RecurSpec
from zerog.settings import Settings
from zerog.store import Store

ALICE = Actor("alice", "http 10.0.0.7")
Act = Callable[[Store, str], Any]


@pytest.fixture
def store() -> Iterator[Store]:
    made = Store(MemoryBackend(), Settings(url="memory://"))
    yield made
    made.close()


def _job(store: Store, setup: str) -> str:
    """A job (or recurrence) in the state the action needs."""
    if setup == "recurrence":
        return store.recur(RecurSpec(type="t", queue="r", interval_seconds=3600.0))
    uuid = store.enqueue(JobSpec(type="t", queue=setup, priority=-99))
    if setup in ("running", "failed"):
        reservation = store.reserve([setup], "w")
        assert reservation is not None
        assert reservation.lease.uuid == uuid
        if setup == "failed":
            store.fail(reservation.lease, {"timeStamp": 0.0, "errorCode": None, "msg": "x"})
    return uuid


CASES: list[tuple[str, str, Act, str, str]] = [
    # (setup, name, how, action audited, target: "job" or a fixed name)
    ("running", "cancel", lambda s, u: s.act(u, "cancel"), "cancel", "job"),
    ("failed", "retry", lambda s, u: s.act(u, "retry"), "retry", "job"),
    ("waiting", "pause", lambda s, u: s.act(u, "pause"), "pause", "job"),
    ("paused", "resume", lambda s, u: s.act(u, "resume"), "resume", "job"),
    ("running", "timeout", lambda s, u: s.act(u, "timeout"), "timeout", "job"),
    ("failed", "delete", lambda s, u: s.delete(u), "delete", "job"),
    ("waiting", "priority", lambda s, u: s.alter(u, Change(priority=3)), "priority", "job"),
    ("waiting", "move", lambda s, u: s.alter(u, Change(queue="elsewhere")), "move", "job"),
    ("waiting", "tag", lambda s, u: s.alter(u, Change(add_tags=["x"])), "tag", "job"),
    ("waiting", "untag", lambda s, u: s.alter(u, Change(remove_tags=["x"])), "untag", "job"),
    ("running", "message", lambda s, u: s.message(u, {"rate": 2}), "message", "job"),
    ("failed", "kick", lambda s, u: s.kick("failed"), "kick", "failed"),
    ("waiting", "queue pause", lambda s, u: s.pause_queue("q"), "pause-queue", "q"),
    ("waiting", "queue resume", lambda s, u: s.resume_queue("q"), "resume-queue", "q"),
    ("waiting", "limit", lambda s, u: s.set_limit("gpu", 2), "limit", "gpu"),
    (
        "waiting",
        "config",
        lambda s, u: s.set_config("stall-policy", "cancel"),
        "config",
        "stall-policy",
    ),
    (
        "waiting",
        "recur",
        lambda s, u: s.recur(RecurSpec(type="t", queue="r", interval_seconds=60.0)),
        "recur",
        "new",
    ),
    (
        "recurrence",
        "recurrence change",
        lambda s, u: s.update_recurrence(u, priority=5),
        "update-recurrence",
        "job",
    ),
    ("recurrence", "unrecur", lambda s, u: s.unrecur(u), "unrecur", "job"),
]


@pytest.mark.parametrize(
    ("setup", "name", "how", "action", "target"), CASES, ids=[c[1] for c in CASES]
)
def test_each_operator_action_leaves_one_entry_naming_its_actor(
    store: Store, setup: str, name: str, how: Act, action: str, target: str
) -> None:
    # Given a job in the state the action needs (paused: put, then paused by someone else)
    uuid = _job(store, "waiting" if setup == "paused" else setup)
    if setup == "paused":
        store.act(uuid, "pause")
    before = len(store.audit())
    # When alice acts
    with acting(ALICE):
        made = how(store, uuid)
    # Then exactly one entry is added, naming her, her door, the action and its target
    entries = store.audit()
    assert len(entries) == before + 1, entries[: len(entries) - before]
    entry = entries[0]
    expected = {"job": uuid, "new": made}.get(target, target)
    assert (entry["actor"], entry["source"], entry["action"], entry["target"]) == (
        "alice",
        "http 10.0.0.7",
        action,
        expected,
    )
    assert entry["at"] > 0
    # And a job's history names her too, where the action wrote one (a tag is a label: it
    # leaves no history entry on any backend, the trail is where its change is found)
    if target == "job" and setup != "recurrence" and action not in ("delete", "tag", "untag"):
        history = store.get(uuid, history=True)["history"]
        assert ALICE.label in [h["worker"] for h in history]
