"""The statements the shared steps run, as every SQL dialect provides them: one
:class:`Queries` of named statements (loaded from the dialect's ``sql/queries.sql`` by
:func:`load_queries`) and two builders of statements shaped by the call (which keys an update
writes, which list filters are set), the columns of ``jobs``, and the :class:`Conn` the steps
run on.

The steps never name a dialect's statements: they take them from the connection (``conn.q``),
so that the same steps run on every dialect whose connection carries a :class:`Queries` of
these names (SQLite's and PostgreSQL's do).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, fields
from importlib import resources
from typing import Any, Protocol

COLUMNS = (
    "uuid",
    "queue",
    "type",
    "state",
    "priority",
    "ready_at",
    "expires_at",
    "ttr_seconds",
    "max_retries",
    "attempts",
    "lease_token",
    "lease_expires_at",
    "worker",
    "control",
    "created_at",
    "updated_at",
    "started_at",
    "finished_at",
)
"""Record keys kept in columns of ``jobs``, in table order (between ``seq`` and ``doc``)."""

COLUMN_SET = frozenset(COLUMNS)

_NAME = re.compile(r"^--\s*name:\s*(\w+)\s*$", re.MULTILINE)
DOC_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class Queries:
    """The named statements of a dialect's ``sql/queries.sql``, its two builders of
    statements shaped by the call (``update_sql``: which keys an update writes; ``list_sql``:
    which list filters are set), and its name, by which code that keeps SQL of its own per
    dialect picks its statements for a connection (``conn.q.dialect``)."""

    dialect: str
    schema_version: str
    insert_job: str
    add_tag: str
    add_history: str
    history_cap: str
    drop_history_cap: str
    next_ready: str
    next_ready_plain: str
    flow_probe: str
    ready_scan: str
    job_by_seq: str
    running_throttles: str
    start_run: str
    touch: str
    held: str
    held_with_lists: str
    held_many: str
    any_to_rescue: str
    to_rescue: str
    job_state: str
    set_control: str
    end_lease: str
    uuid_of: str
    oldest_failed: str
    job: str
    job_for_update: str
    lock_key: str
    history: str
    counts: str
    table_columns: str
    quarantine: str
    next_due: str
    paused_queues: str
    pause_queue: str
    resume_queue: str
    register_worker: str
    unregister_worker: str
    any_stale_worker: str
    prune_workers: str
    live_workers: str
    jobs_by_uuids: str
    add_dependency: str
    drop_dependency: str
    drop_dependents: str
    append_dependent: str
    dependents: str
    waiting_dependents: str
    dependency_links: str
    unique_holder: str
    hold_unique: str
    free_unique: str
    hold_unique_again: str
    unique_key_of: str
    debounce_entry: str
    set_debounce: str
    due_recurrences: str
    save_recurrence: str
    recur: str
    unrecur: str
    recurrences: str
    recurrence: str
    limits: str
    set_limit: str
    unset_limit: str
    config: str
    set_config: str
    unset_config: str
    stats: str
    set_stats: str
    drop_stats_before: str
    stats_before: str
    remove_tag: str
    top_tags: str
    track: str
    untrack: str
    add_spawned: str
    finished_boundary: str
    doomed_by_age: str
    doomed_by_count: str
    delete_tags_of: str
    delete_spawned_of: str
    delete_tracked_of: str
    delete_uniques_of: str
    delete_deps_of: str
    delete_deps_on: str
    delete_history_of: str
    delete_jobs: str
    update_sql: Callable[[tuple[str, ...], tuple[str, ...]], str] = field(repr=False)
    list_sql: Callable[[tuple[str, ...]], str] = field(repr=False)


NOT_NAMED = frozenset({"dialect", "update_sql", "list_sql"})
"""The fields of :class:`Queries` that are not statements of ``sql/queries.sql``."""


class Cursor(Protocol):
    """What the steps read of an executed statement (a ``sqlite3.Cursor`` is one)."""

    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def __iter__(self) -> Iterator[Any]: ...


class Conn(Protocol):
    """The connection a step runs on: the DB-API calls the steps make, and the dialect's own
    statements (``q``). The SQLite backend's connections are ``sqlite3.Connection``s with
    ``q`` added; the PostgreSQL backend's are a thin adapter over psycopg."""

    @property
    def q(self) -> Queries: ...

    @property
    def IntegrityError(self) -> type[Exception]: ...  # the DB-API's name.

    def execute(self, sql: str, parameters: Any = ..., /) -> Cursor: ...

    def executemany(self, sql: str, parameters: Iterable[Any], /) -> Any: ...


def read_sql(filename: str, package: str) -> str:
    """The text of one of a package's ``sql/`` files (a dialect's: ``sql/queries.sql``)."""
    where = resources.files(package)
    return where.joinpath("sql", filename).read_text(encoding="utf-8")


def parse_named(text: str) -> dict[str, str]:
    """Split a file of ``-- name: x`` sections into {name: statement}."""
    parts = _NAME.split(text)
    return {name: body.strip() for name, body in zip(parts[1::2], parts[2::2], strict=True)}


def load_queries(
    dialect: str,
    text: str,
    update: Callable[[tuple[str, ...], tuple[str, ...]], str],
    listing: Callable[[tuple[str, ...]], str],
) -> Queries:
    """Dialect ``dialect``'s statements: every named statement of ``text`` and its two
    builders; fails at import if ``text`` and :class:`Queries` disagree."""
    named = parse_named(text)
    expected = {f.name for f in fields(Queries)} - NOT_NAMED
    if set(named) != expected:
        raise RuntimeError(
            f"{dialect}'s sql/queries.sql names {sorted(named)}, expected {sorted(expected)}"
        )
    return Queries(dialect=dialect, **named, update_sql=update, list_sql=listing)


LIST_FILTERS = {
    "state": "state = :state",
    "queue": "queue = :queue",
    "type": "type = :type",
    "tag": "seq IN (SELECT job FROM tags WHERE tag = :tag)",
    "tracked": "seq IN (SELECT job FROM tracked)",
    "untracked": "seq NOT IN (SELECT job FROM tracked)",
    "recurrence": "seq IN (SELECT job FROM spawned WHERE recurrence = :recurrence)",
    "worker": "worker = :worker",
    "before": "seq < :before",
}
"""The conditions of :meth:`SqlBackend.list`'s filters, by name, with named parameters
(``:name``; a dialect whose driver spells them otherwise rewrites them)."""
