"""``redis://``: the jobs role on Redis, every state change one Lua script (see the package's
docstring for the keys, and each ``lua/*.lua`` for what its script does)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from urllib.parse import quote

import redis

from zerog.backends.contract import Capability, FullBackend, Waiter
from zerog.backends.redis import _codec
from zerog.backends.redis._audit import AuditPart
from zerog.backends.redis._connect import DEFAULT_PREFIX, Options, client_url, options_of
from zerog.backends.redis._messages import MessagesPart
from zerog.backends.redis._roles import RolesPart
from zerog.backends.redis._waiter import RedisWaiter
from zerog.errors import ConfigurationError
from zerog.lifecycle import WORKER_LOST
from zerog.model import (
    Batch,
    Change,
    Control,
    Lease,
    ListQuery,
    Page,
    Placed,
    Progress,
    Record,
    Reservation,
    ReserveRequest,
    Settlement,
    State,
)
from zerog.urls import BackendURL, parse_url

RESCUE_CHUNK = 1000  # expired leases one rescue script moves at most.


class RedisBackend(RolesPart, MessagesPart, AuditPart, FullBackend):
    """Jobs in Redis; safe for many threads, processes and hosts at once."""

    capabilities = frozenset({Capability.MULTI_PROCESS})

    def __init__(
        self,
        options: Options,
        clock: Callable[[], float] | None = None,
        client: redis.Redis | None = None,
    ) -> None:
        RolesPart.__init__(self, options, clock, client)
        FullBackend.__init__(self, clock or self.server_clock)

    @classmethod
    def from_url(
        cls, parsed: BackendURL | str, clock: Callable[[], float] | None = None
    ) -> RedisBackend:
        """``redis://[:password@]host[:port][/db]``, ``rediss://`` (TLS) or
        ``unix:///path.sock?db=N``, with ``?prefix=<name>`` (default ``zerog``): the keys of
        the store all start with ``{<name>}:``. Other options go to redis-py."""
        if isinstance(parsed, str):
            parsed = parse_url(parsed)
        return cls(options_of(parsed), clock)

    @classmethod
    def from_client(
        cls,
        client: redis.Redis,
        prefix: str = DEFAULT_PREFIX,
        clock: Callable[[], float] | None = None,
    ) -> RedisBackend:
        """A store on a redis-py client the caller made (and closes): deferrable's
        ``redis_client``. Its replies must not be decoded (``decode_responses`` off)."""
        if client.get_encoder().decode_responses:
            raise ConfigurationError("zerog needs a redis client with decode_responses=False")
        where = client_url(client)
        joiner = "&" if "?" in where else "?"
        options = options_of(parse_url(f"{where}{joiner}prefix={quote(prefix, safe='')}"))
        return cls(options, clock, client)

    # --- producers ---------------------------------------------------------------------------

    def put(self, record: Record) -> Placed:
        return self.put_many([record])[0]

    def put_many(self, records: Iterable[Record]) -> list[Placed]:
        """All of them or none, in one script. A batch sent again after a lost reply gets
        the first one's reply (a nonce); a single put sent again finds its job stored, and
        says so as the first would have."""
        batch = list(records)
        if not batch:
            return []
        args = [self.nonce() if len(batch) > 1 else "", str(len(batch))]
        for record in batch:
            args += _codec.record_args(record)
        sent: list[int] = []
        try:
            reply = self.script("put", *args, sent=sent)
        except ValueError:
            if len(sent) > 1 and len(batch) == 1:  # stored by the first, its reply lost.
                return [Placed(str(batch[0]["uuid"]), "put")]
            raise
        pairs = [_codec.s(v) for v in reply[1:]]
        return [Placed(pairs[i + 1], pairs[i]) for i in range(0, len(pairs), 2)]

    # --- workers -----------------------------------------------------------------------------

    def settle_batch(
        self,
        finished: Sequence[tuple[Lease, Settlement]],
        request: ReserveRequest | None,
        count: int,
    ) -> Batch:
        """One script for the lot: one round trip per batch."""
        finished = list(finished)
        if len(finished) > 1 and any(s.queue is not None for _l, s in finished):
            raise ValueError("a pipeline step settles alone, not in a batch with others")
        settlements = [_codec.settlement_arg(lease, s) for lease, s in finished]
        want = count if request is not None else 0
        queues = json.dumps(list(request.queues)) if request is not None else "[]"
        worker = request.worker if request is not None else ""
        reply = self.script(
            "settle_batch", str(max(0, want)), worker, queues, self.nonce(), *settlements
        )
        lost = [_codec.s(u) for u in reply[1]]
        reservations = []
        for text in reply[2]:
            record = json.loads(text)
            lease = Lease(record["uuid"], record["lease_token"], worker)
            reservations.append(Reservation(lease, record))
        return Batch(lost=lost, reservations=reservations)

    def touch(self, lease: Lease) -> Control:
        reply = self.script("save", lease.uuid, lease.token, "", uuid=lease.uuid, token=lease.token)
        return Control(_codec.s(reply[1]))

    def save(self, lease: Lease, progress: Progress) -> Control:
        doc = json.dumps(_codec.progress_doc(progress), separators=(",", ":"))
        reply = self.script(
            "save", lease.uuid, lease.token, doc, uuid=lease.uuid, token=lease.token
        )
        return Control(_codec.s(reply[1]))

    def rescue_expired(self, limit: int = 100) -> list[str]:
        """In scripts of at most :data:`RESCUE_CHUNK` jobs each, oldest lease first."""
        moved: list[str] = []
        while len(moved) < limit:
            chunk = min(RESCUE_CHUNK, limit - len(moved))
            reply = self.script("rescue", str(chunk), WORKER_LOST)
            step = [_codec.s(u) for u in reply[1]]
            moved += step
            if len(step) < chunk:
                break
        return moved

    def waiter(self) -> Waiter:
        return RedisWaiter(self.client, self.root)

    def next_due(self, queues: Sequence[str]) -> float | None:
        if not queues:
            return None
        found = _codec.s(self.script("next_due", *queues)[1])
        return float(found) if found else None

    # --- operators ---------------------------------------------------------------------------

    def act(self, uuid: str, action: str, worker: str | None = None) -> State:
        moves = _codec.moves_arg(action)
        reply = self.script("act", uuid, action, moves, _codec.worker_text(worker), uuid=uuid)
        return State(_codec.s(reply[1]))

    def ping(self, write: bool = False) -> None:
        """PING, or with ``write`` a SET of the store's own ping key (an out-of-memory or
        read-only replica server refuses it)."""
        if write:
            self.command(lambda: self.client.set(self.key("ping"), "0"))
        else:
            self.command(lambda: self.client.ping())

    def delete(self, uuid: str, worker: str | None = None) -> bool:
        reply = self.script("delete", uuid, uuid=uuid)
        return bool(int(reply[1]))

    def kick(self, queue: str, limit: int) -> int:
        reply = self.script("kick", queue, str(max(0, int(limit))), _codec.moves_arg("retry"))
        return int(reply[1])

    def alter(self, uuid: str, change: Change, worker: str | None = None) -> Record:
        reply = self.script(
            "alter", uuid, _codec.change_arg(change), _codec.worker_text(worker), uuid=uuid
        )
        record: Record = json.loads(reply[1])
        return record

    # --- readers -----------------------------------------------------------------------------

    def top_tags(self, limit: int = 20) -> list[tuple[str, int]]:
        found = self.command(
            lambda: self.client.zrange(self.key("tags"), 0, max(0, limit) - 1, withscores=True)
        )
        return [(_codec.s(tag), -int(score)) for tag, score in found]

    def get(self, uuid: str, history: bool = False) -> Record:
        reply = self.script("get", uuid, "1" if history else "0")
        record: Record = json.loads(reply[1])
        return record

    def list(self, query: ListQuery) -> Page:
        reply = self.script("list", _codec.query_arg(query))
        cursor = _codec.s(reply[1])
        return Page(_codec.records(reply[2:]), cursor or None)

    def counts(self) -> dict[str, dict[str, int]]:
        found = self.command(lambda: self.client.hgetall(self.key("counts")))
        out: dict[str, dict[str, int]] = {}
        for field, value in found.items():
            if int(value):
                queue, _, state = _codec.s(field).rpartition("\n")
                out.setdefault(queue, {})[state] = int(value)
        return out

    def close(self) -> None:
        if self._owns_client:
            self.client.close()
            self.client.connection_pool.disconnect()
