"""Conformance: the audit trail (the audit role): entries appended in order, read newest
first, filtered, paged; never changed by the jobs' own life."""

from __future__ import annotations

from typing import cast

import pytest

from tests.backends.support.helpers import put_job
from zerog.audit import Actor, AuditQuery, audit_entry
from zerog.backends.contract import Audit, Backend

pytestmark = pytest.mark.roles("audit")


def _audit(backend: Backend) -> Audit:
    return cast(Audit, backend)


def _append(backend: Backend, actor: str, action: str, target: str) -> int:
    entry = audit_entry(backend.clock(), Actor(actor, "cli"), action, target, f"{action} it")
    return _audit(backend).append_audit(entry)


def test_entries_are_numbered_in_order_and_read_newest_first(backend: Backend) -> None:
    # Given three actions recorded
    seqs = [
        _append(backend, "alice", "cancel", "u1"),
        _append(backend, "bob", "pause-queue", "q"),
        _append(backend, "alice", "retry", "u1"),
    ]
    # Then each got a greater seq, and they read back newest first, as written
    assert seqs == sorted(seqs)
    assert len(set(seqs)) == 3
    entries = _audit(backend).audit_log(AuditQuery())
    assert [e["seq"] for e in entries] == seqs[::-1]
    assert entries[-1] == {
        "seq": seqs[0],
        "at": backend.clock(),
        "actor": "alice",
        "source": "cli",
        "action": "cancel",
        "target": "u1",
        "detail": "cancel it",
    }


def test_entries_are_filtered_and_paged(backend: Backend) -> None:
    for n in range(5):
        _append(backend, "alice" if n % 2 else "bob", "cancel" if n < 3 else "retry", f"u{n}")
    log = _audit(backend).audit_log
    assert [e["target"] for e in log(AuditQuery(actor="alice"))] == ["u3", "u1"]
    assert [e["target"] for e in log(AuditQuery(action="retry"))] == ["u4", "u3"]
    assert [e["target"] for e in log(AuditQuery(target="u2"))] == ["u2"]
    # Pages: the seq of the last entry seen is the cursor of the next page
    first = log(AuditQuery(limit=2))
    assert [e["target"] for e in first] == ["u4", "u3"]
    second = log(AuditQuery(limit=2, before=first[-1]["seq"]))
    assert [e["target"] for e in second] == ["u2", "u1"]
    assert log(AuditQuery(actor="nobody")) == []


def test_an_empty_store_has_an_empty_trail_and_jobs_do_not_touch_it(backend: Backend) -> None:
    assert _audit(backend).audit_log(AuditQuery()) == []
    put_job(backend)
    assert _audit(backend).audit_log(AuditQuery()) == []
