"""Records that cannot be read: a document damaged outside zerog (a bad edit, a disk fault).

One such record must not stop a store. Readers (get, list, the dashboard, the CLI, metrics)
show it as what it is — its columns, ``unreadable`` saying why, the start of its raw text —
and change nothing. A worker that meets it (claiming it, or rescuing its expired lease)
quarantines it: the job ends ``failed`` with the error "unreadable record", its raw text kept
in the document for inspection, its unique key freed and its dependents told, as any failure
does; everything else goes on.
"""

from __future__ import annotations

import json
from typing import Any

from zerog.backends.sql.statements import COLUMNS
from zerog.model import Record
from zerog.record import error_entry

MAX_RAW_CHARS = 4096  # of a damaged document, kept for inspection.

LISTS = ("tags", "events", "errors", "samples", "depends", "dependents", "throttles")
OBJECTS = ("values", "blocked_by")
NUMBERS = ("completeness",)
"""The document keys every reader relies on, by the JSON type each must have."""


class Unreadable(ValueError):
    """A job's document is not JSON, or not the shape a record has."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


def parse_doc(text: str | bytes | dict[str, Any]) -> Record:
    """The document as a dict (PostgreSQL hands over jsonb decoded already); Unreadable when
    it is not a JSON object, or a key readers rely on has the wrong type."""
    if isinstance(text, dict):
        doc: Any = text
    else:
        try:
            doc = json.loads(text)
        except ValueError as exc:
            raise Unreadable(f"its document is not JSON ({exc})") from None
    if not isinstance(doc, dict):
        raise Unreadable(f"its document is a JSON {type(doc).__name__}, not an object")
    _check_types(doc)
    return doc


def _check_types(doc: dict[str, Any]) -> None:
    for key in LISTS:
        if doc.get(key) is not None and not isinstance(doc[key], list):
            raise Unreadable(f"its {key!r} is a {type(doc[key]).__name__}, not a list")
    for key in OBJECTS:
        if doc.get(key) is not None and not isinstance(doc[key], dict):
            raise Unreadable(f"its {key!r} is a {type(doc[key]).__name__}, not an object")
    for key in NUMBERS:
        value = doc.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise Unreadable(f"its {key!r} is a {type(value).__name__}, not a number")
    for key in ("events", "errors"):
        if any(not isinstance(entry, dict) for entry in doc.get(key) or ()):
            raise Unreadable(f"its {key!r} hold entries that are not objects")


def raw_text(text: Any) -> str:
    """The start of a damaged document, as text."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return str(text)[:MAX_RAW_CHARS]


def shown_unreadable(row: tuple[Any, ...], reason: str) -> Record:
    """What a reader sees of a record that cannot be read: its columns, and why."""
    record: Record = dict(zip(COLUMNS, row[1:-1], strict=True))
    record.update(
        kind="class",
        values={},
        tags=[],
        events=[],
        errors=[error_entry(record.get("updated_at") or 0.0, None, f"unreadable record: {reason}")],
        samples=[],
        completeness=0.0,
        progress_message=None,
        result=None,
        result_code=None,
        depends=[],
        dependents=[],
        blocked_by={},
        throttles=[],
        unique_key=None,
        tracked=False,
        recurrence=None,
        ttl_seconds=None,
        stall_seconds=None,
        unreadable=reason,
        raw=raw_text(row[-1]),
    )
    return record


def quarantined_doc(raw: Any, reason: str, now: float) -> dict[str, Any]:
    """The document a quarantined job keeps: valid, empty, its error and its raw text."""
    return {
        "kind": "class",
        "values": {},
        "tags": [],
        "events": [],
        "errors": [error_entry(now, None, f"unreadable record: {reason}")],
        "samples": [],
        "completeness": 0.0,
        "unreadable": reason,
        "raw": raw_text(raw),
    }
