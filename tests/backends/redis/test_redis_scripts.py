"""Redis: the Lua code (loaded again when the server lost it; each file documented), the keys
(one hash tag per store), the server's clock, the URL, and a server that may evict keys."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest
import redis
from redis.crc import key_slot

from tests.backends.support import redis_server
from tests.backends.support.helpers import completed, job_record, put_job, take
from zerog import stats
from zerog.backends import open_backend
from zerog.backends.redis import RedisBackend, _codec
from zerog.backends.redis._scripts import code
from zerog.errors import ConfigurationError
from zerog.model import Change, Lease, Progress, ReserveRequest, Settlement
from zerog.record import Debounce
from zerog.recurrence import RecurSpec, new_recurrence
from zerog.testing import FakeClock

LUA = resources.files("zerog.backends.redis").joinpath("lua")


def _open(url: str, clock: FakeClock | None = None) -> RedisBackend:
    backend = open_backend(url, clock=clock)
    assert isinstance(backend, RedisBackend)
    return backend


# --- the code ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(e.name for e in LUA.iterdir() if e.name.endswith(".lua")))
def test_each_script_file_starts_with_a_comment_naming_its_keys_and_arguments(name: str) -> None:
    text = LUA.joinpath(name).read_text()
    header = text[: text.index("\n\n", text.index("KEYS[1]"))]
    assert all(line.startswith("--") for line in header.splitlines())
    assert "KEYS[1]" in header
    assert "ARGV[1]" in header
    assert "Returns" in text.split("\n\n", 3)[0] + text  # each says what it answers.


def test_scripts_flushed_from_the_server_are_loaded_again(url: str, client: redis.Redis) -> None:
    # Given a store running its code as EVALSHA scripts, which the server knows
    backend = _open(url + "&scripts=eval")
    try:
        put_job(backend)
        loaded = backend.runner.reloads
        # When the server forgets every script (SCRIPT FLUSH, as a restart without them)
        client.script_flush()
        # Then the next calls answer NOSCRIPT, load their script again, and work
        second = put_job(backend)
        assert take(backend).lease.uuid != second
        assert backend.runner.reloads > loaded
        assert backend.counts() == {"q": {"waiting": 1, "running": 1}}
    finally:
        backend.close()


def test_a_function_library_the_server_lost_is_loaded_again(
    backend: RedisBackend, client: redis.Redis
) -> None:
    # Given a store running its code as a function library
    assert backend.runner.functions
    put_job(backend)
    loaded = backend.runner.reloads
    # When the server loses the library
    client.function_delete(code().library_name)
    # Then the next call loads it again, and works
    put_job(backend)
    assert backend.runner.reloads == loaded + 1
    assert backend.counts() == {"q": {"waiting": 2}}


# --- keys -------------------------------------------------------------------------------------


def test_every_key_of_a_store_is_under_its_prefix_in_one_cluster_slot(
    url: str, client: redis.Redis, clock: FakeClock
) -> None:
    # Given a store used in every way that writes keys
    backend = _open(url, clock)
    try:
        _exercise(backend, clock)
        root = backend.root
        # When its keys are listed
        keys = [k.decode() for k in client.scan_iter(match=f"{root}*", count=1000)]
        # Then there are many, all start with the store's root, and share one slot
        assert len(keys) > 20
        assert all(k.startswith(root + ":") for k in keys)
        assert {key_slot(k.encode()) for k in keys} == {key_slot(root.encode())}
        # And no key outside the root names the store's prefix
        prefix = backend.options.prefix
        assert not [k for k in client.scan_iter(match=f"*{prefix}*") if not k.startswith(b"{")]
    finally:
        backend.close()


def _exercise(backend: RedisBackend, clock: FakeClock) -> None:
    first = put_job(backend, tags=["t"], unique="u", throttles=["api"])
    put_job(backend, depends=[first], delay_seconds=5.0, ttl_seconds=100.0)
    backend.put(job_record(backend, debounce=Debounce(key="d", seconds=1.0)))
    backend.set_limit("api", 3)
    lease = take(backend).lease
    backend.save(lease, Progress(completeness=0.5, events=[{"e": 1}], sample=(1.0, 0.5)))
    backend.settle(lease, Settlement.failed({"msg": "x"}))
    backend.act(first, "retry")
    backend.settle(take(backend).lease, completed())
    backend.alter(put_job(backend), Change(tracked=True, add_tags=["x"]))
    backend.recur(new_recurrence(RecurSpec(type="t", queue="r", interval_seconds=60), clock()))
    take(backend, "r")
    backend.pause_queue("p", True)
    backend.register_worker({"id": "w", "started_at": clock()})
    backend.set_config("heartbeat", 30)
    delta = stats.StatsDelta(queue="q", day=stats.day_of(clock()))
    delta.run.add(1.0)
    backend.add_stats([delta])
    backend.waiter().interrupt()


# --- the server's clock -----------------------------------------------------------------------


def test_stored_times_are_the_servers_not_the_writers(
    backend: RedisBackend, client: redis.Redis
) -> None:
    # Given a record made by a writer whose clock is an hour late, with a 10 s delay
    record = job_record(backend, delay_seconds=10.0, ttl_seconds=60.0)
    for key in ("created_at", "updated_at", "ready_at", "expires_at"):
        record[key] -= 3600.0
    # When it is put
    before = _server_time(client)
    backend.put(record)
    after = _server_time(client)
    # Then it was stamped with the server's time, the delay and TTL kept
    stored = backend.get(record["uuid"])
    assert before <= stored["created_at"] <= after
    assert stored["updated_at"] == stored["created_at"]
    assert stored["ready_at"] == pytest.approx(stored["created_at"] + 10.0)
    assert stored["expires_at"] == pytest.approx(stored["created_at"] + 60.0)


def test_a_lease_runs_from_the_servers_time(backend: RedisBackend, client: redis.Redis) -> None:
    uuid = put_job(backend, ttr_seconds=30.0)
    before = _server_time(client)
    record = take(backend).record
    after = _server_time(client)
    assert record["uuid"] == uuid
    assert before + 30.0 <= record["lease_expires_at"] <= after + 30.0
    assert abs(backend.clock() - _server_time(client)) < 0.5


def _server_time(client: redis.Redis) -> float:
    seconds, micros = client.time()
    return seconds + micros / 1e6


# --- the URL and the server -------------------------------------------------------------------


def test_a_unix_socket_url_reaches_the_server(tmp_path: Path) -> None:
    socket = tmp_path / "redis.sock"
    server = redis_server.RedisServer(
        tmp_path / "data", options=(("unixsocket", str(socket)), ("unixsocketperm", "700"))
    ).start()
    try:
        backend = _open(f"unix://{socket}?db=2&prefix=sock")
        try:
            uuid = put_job(backend)
            assert take(backend).lease.uuid == uuid
        finally:
            backend.close()
        assert redis.Redis(unix_socket_path=str(socket), db=2).keys("{sock}:j:*")
    finally:
        server.stop()


@pytest.mark.parametrize("option", ["prefix=a{b}", "prefix=", "prefix=a%20b", "scripts=lua"])
def test_bad_options_are_refused(option: str) -> None:
    url = f"redis://127.0.0.1:{redis_server.shared().port}/0?{option}"
    with pytest.raises(ConfigurationError):
        open_backend(url)


@pytest.mark.parametrize("policy", ["allkeys-lru", "volatile-ttl", "allkeys-random"])
def test_a_server_that_may_evict_keys_is_refused_saying_why_and_how_to_fix_it(
    tmp_path: Path, policy: str
) -> None:
    # Given a server whose memory policy evicts keys
    server = redis_server.RedisServer(
        tmp_path / "data", options=(("maxmemory-policy", policy),)
    ).start()
    try:
        # When zerog opens a store there / Then it refuses, naming the fix
        with pytest.raises(ConfigurationError) as refused:
            open_backend(server.url())
        message = str(refused.value)
        assert policy in message
        assert "lost job" in message
        assert "CONFIG SET maxmemory-policy noeviction" in message
        # And once fixed, the store opens
        redis.Redis(port=server.port).config_set("maxmemory-policy", "noeviction")
        open_backend(server.url()).close()
    finally:
        server.stop()


# --- writes sent twice ------------------------------------------------------------------------


def test_a_put_sent_again_with_its_nonce_is_stored_once(backend: RedisBackend) -> None:
    # Given a put whose reply was lost (sent, and sent again with the same nonce)
    record = job_record(backend)
    args = ["nonce-1", "1", *_codec.record_args(record)]
    first = backend.script("put", *args)
    second = backend.script("put", *args)
    # Then the second got the first's reply, and one job is stored
    assert first == second
    assert backend.counts() == {"q": {"waiting": 1}}


def test_a_settlement_sent_again_with_its_nonce_is_not_reported_lost(
    backend: RedisBackend,
) -> None:
    # Given a running job, and a batch settling it and claiming the next, sent twice
    put_job(backend)
    lease = take(backend).lease
    nxt = put_job(backend)
    settlement = _codec.settlement_arg(lease, completed())
    args = ["1", "w2", '["q"]', "nonce-2", settlement]
    first = backend.script("settle_batch", *args)
    second = backend.script("settle_batch", *args)
    # Then the second reports nothing lost and the same claim
    assert list(second[1]) == list(first[1]) == []
    assert len(second[2]) == 1
    assert _codec.loads(second[2][0])["uuid"] == nxt
    assert backend.get(nxt)["lease_token"] == 1
    assert backend.counts() == {"q": {"complete": 1, "running": 1}}


def test_a_batch_naming_one_pipeline_step_among_others_is_refused(backend: RedisBackend) -> None:
    leases = [take(backend).lease for _ in (put_job(backend), put_job(backend))]
    with pytest.raises(ValueError, match="settles alone"):
        backend.settle_batch(
            [(leases[0], completed()), (leases[1], Settlement.advanced("next"))], None, 0
        )
    assert backend.settle_batch([(leases[1], Settlement.advanced("next"))], None, 0).lost == []
    request = ReserveRequest(queues=["next"], worker="w")
    assert backend.settle_batch([], request, 5).reservations[0].lease == Lease(
        leases[1].uuid, 2, "w"
    )


def test_a_user_who_may_not_load_functions_runs_the_code_as_scripts(tmp_path: Path) -> None:
    # Given a server where zerog's user may call functions but not load them
    server = redis_server.RedisServer(tmp_path / "data").start()
    admin = redis.Redis(port=server.port)
    admin.acl_setuser(
        "worker", enabled=True, passwords=["+pw"], keys=["*"], channels=["*"],
        commands=["+@all", "-function"],
    )  # fmt: skip
    try:
        # When it opens a store and puts a job / Then the code runs as EVALSHA scripts
        backend = _open(f"redis://worker:pw@127.0.0.1:{server.port}/0?prefix=acl")
        try:
            uuid = put_job(backend)
            assert backend.runner.functions is False
            assert take(backend).lease.uuid == uuid
        finally:
            backend.close()
    finally:
        admin.close()
        server.stop()
