"""Dependencies between jobs: checking the ids a job is to wait for, and linking it to them.

A link is kept twice: as a ``deps`` row (job seqs, what the steps look up) and in the records'
``depends`` / ``dependents`` lists (uuids, what readers see), changed together.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from zerog import flow
from zerog.backends.sql.rows import dumps, loads_list
from zerog.backends.sql.statements import Conn
from zerog.backends.sql.txn import Txn, write
from zerog.errors import DependencyCycle, UnknownDependency
from zerog.model import FINAL_STATES, State

FINAL = frozenset(s.value for s in FINAL_STATES)
COMPLETE = State.COMPLETE.value


class Dependencies(NamedTuple):
    """The unfinished jobs of a list of dependencies, in the order given (never changed in
    place: :data:`NONE` is shared)."""

    pending: list[str]  # uuids not complete.
    blocked: dict[str, str]  # those failed, cancelled, expired: uuid -> state.
    seqs: dict[str, int]  # uuid -> jobs.seq of the pending.


NONE = Dependencies([], {}, {})
"""No dependency (the hot path's: a settlement or put without any builds nothing)."""


def dependencies(conn: Conn, depends: Sequence[str], any_end: bool = False) -> Dependencies:
    """The unfinished ones of ``depends`` and those that block; UnknownDependency (before
    anything is written) when some do not exist. With ``any_end`` (a batch's callback, see
    flow.counts_any_end) every final state is done, and nothing blocks."""
    if not depends:
        return NONE
    found = {
        uuid: (seq, state)
        for uuid, seq, state in conn.execute(conn.q.jobs_by_uuids, (dumps(list(depends)),))
    }
    missing = [d for d in depends if d not in found]
    if missing:
        raise UnknownDependency(missing)
    pending = [d for d in depends if found[d][1] != COMPLETE]
    if any_end:
        pending = [d for d in pending if found[d][1] not in FINAL]
    return Dependencies(
        pending,
        {d: found[d][1] for d in pending if found[d][1] in FINAL},
        {d: found[d][0] for d in pending},
    )


def link(txn: Txn, deps: Dependencies, seq: int, uuid: str, once: bool = False) -> None:
    """Make job ``seq`` a dependent of each pending dependency. With ``once``, a job that is
    already one is not listed again (as the memory backend does for a depend())."""
    for dependency in deps.pending:
        on = deps.seqs[dependency]
        added = txn.conn.execute(txn.q.add_dependency, (on, seq)).rowcount
        if added or not once:
            txn.conn.execute(txn.q.append_dependent, {"seq": on, "uuid": uuid})


def unlink(txn: Txn, dependency: str, seq: int, uuid: str) -> None:
    """Job ``seq`` no longer waits for ``dependency`` (which may be gone)."""
    row = txn.conn.execute(txn.q.dependency_links, (dependency,)).fetchone()
    if row is None:
        return
    txn.conn.execute(txn.q.drop_dependency, (row[0], seq))
    dependents = loads_list(row[2])
    if uuid in dependents:
        dependents.remove(uuid)
        write(txn.conn, row[0], {}, {"dependents": dependents})


def refuse_cycles(conn: Conn, uuid: str, pending: Sequence[str]) -> None:
    """DependencyCycle if job ``uuid`` waiting for one of ``pending`` closes a loop."""

    def depends_of(other: str) -> list[str]:
        row = conn.execute(conn.q.dependency_links, (other,)).fetchone()
        return [] if row is None else loads_list(row[1])

    for on in pending:
        if flow.would_cycle(uuid, on, depends_of):
            raise DependencyCycle(uuid, on)
