"""The qless-py seed's examples, call for call, on zerog's stores (memory and SQLite).

Each example is written as the README writes it, with only its import changed to
``from zerog import qless``; ``...`` placeholders are filled in. Time is a fake clock moved by
the tests; ``testing.drain`` runs jobs the way ``zerog worker`` does (one test starts a real
worker process on a SQLite file).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

import zerog
from tests.backends.support import redis_server
from tests.seeds import alternative_gnomes, awesomeproject
from tests.seeds import qless_jobs as jobs
from tests.seeds.qless_jobs import myJob
from zerog import qless, testing
from zerog import store as store_module
from zerog.backends import open_backend
from zerog.backends.memory import MemoryBackend
from zerog.errors import BackendUnavailable, InvalidTransition, NotSerializable
from zerog.qless.client import redis_url
from zerog.settings import Settings
from zerog.store import Store

ROOT = Path(__file__).resolve().parents[2]
PIPELINE = ["underpants", "unknown", "profit"]


@pytest.fixture
def clock():
    return testing.FakeClock()


@pytest.fixture(params=["memory", "sqlite", "redis"])
def store(request, tmp_path, clock):
    """A fresh store with a fake clock, made the process's store (what qless.client() opens)."""
    if request.param == "memory":
        url, backend = "memory://", MemoryBackend(clock=clock)
    elif request.param == "redis":  # the session's redis-server, a key prefix of its own.
        url = redis_server.shared().url()
        backend = open_backend(url, clock=clock)
    else:
        url = f"sqlite:///{tmp_path / 'qless.db'}"
        backend = open_backend(url, clock=clock)
    opened = Store(backend, Settings(url=url))
    previous = store_module._default
    zerog.use(opened)
    yield opened
    zerog.use(previous)
    opened.close()


@pytest.fixture
def client(store):
    return qless.client()


def drain(store):
    """Run every ready job (moving the fake clock to scheduled ones) like a worker would."""
    return testing.drain(store, queues=sorted(store.counts()))


# --- Business Time: the gnomes -------------------------------------------------------------


def test_gnomes_pipeline_runs_through_the_three_queues(store):
    client = qless.client()
    queue = client.queue("underpants")

    from tests.seeds import gnomes

    for i in range(1000):  # noqa: B007 (the README's loop)
        queue.put(gnomes.GnomesJob, {})

    outcomes = testing.drain(store, queues=PIPELINE)
    assert outcomes == {"advanced": 2000, "completed": 1000}
    done = client.jobs.complete(count=5)
    assert len(done) == 5
    job = client.jobs[done[0]]
    assert job.data == {"collected": 3, "plan": "wear", "profit": 0}
    assert job.queue_name == "profit"
    assert job.klass_name == "tests.seeds.gnomes.GnomesJob"


def test_gnomes_popped_by_hand_move_step_by_step(client):
    from tests.seeds import gnomes

    jid = client.queue("underpants").put(gnomes.GnomesJob, {"address": "123 Brief St."})
    for step in PIPELINE:
        job = client.queues[step].pop()
        assert job.jid == jid
        job.process()
    job = client.jobs[jid]
    assert job.state == "complete"
    assert job["collected"] == 12
    assert job["plan"] == "sell"
    assert job["profit"] == 24


def test_alternative_gnomes_one_process_method_for_every_stage(client, store):
    unknown = client.queue("unknown").put(alternative_gnomes.GnomesJob, {})
    elsewhere = client.queue("elsewhere").put(alternative_gnomes.GnomesJob, {})
    underpants = client.queue("underpants").put(alternative_gnomes.GnomesJob, {})

    testing.drain(store, queues=["unknown", "profit", "elsewhere"])
    client.queue("underpants").pop().process()

    assert client.jobs[unknown].state == "complete"
    assert client.jobs[unknown].data == {"plan": "?", "profit": True}
    failed = client.jobs[elsewhere]
    assert failed.state == "failed"
    assert failed.failure["group"] == "unknown-stage"
    assert failed.failure["message"] == "What what?"
    again = client.jobs[underpants]  # the README's branch sends it back to 'underpants'.
    assert (again.state, again.queue_name, again["visits"]) == ("waiting", "underpants", 1)


def test_a_zerog_worker_process_runs_the_gnomes_pipeline(tmp_path):
    url = f"sqlite:///{tmp_path / 'gnomes.db'}"
    client = qless.client(url)
    queue = client.queue("underpants")

    from tests.seeds import gnomes

    for _ in range(50):
        queue.put(gnomes.GnomesJob, {})
    queue.put(qless.gnomes.GnomesJob, {"count": 7})
    client.close()

    # qless-py-worker --queue underpants --queue unknown --queue profit
    worker = subprocess.run(
        [sys.executable, "-m", "zerog", "worker", "--burst", "--url", url, "--path", str(ROOT),
         "--workers", "2", "-q", "underpants", "-q", "unknown", "-q", "profit"],
        env=dict(os.environ), cwd=ROOT, capture_output=True, text=True, timeout=90, check=False,
    )  # fmt: skip
    assert worker.returncode == 0, worker.stderr

    client = qless.client(url)
    done = client.jobs.complete(count=100)
    assert len(done) == 51
    profits = sorted(str(client.jobs[jid]["profit"]) for jid in done)
    assert profits == ["$7.00"] + ["0"] * 50
    client.close()


def test_a_worker_loop_with_threads_and_a_heartbeat_runs_the_pipeline(client, store):
    from tests.seeds import gnomes
    from zerog.worker import Worker

    jids = [client.queue("underpants").put(gnomes.GnomesJob, {}) for _ in range(20)]
    assert Worker(store, PIPELINE, threads=2, burst=True).run() == 60
    assert {client.jobs[jid].state for jid in jids} == {"complete"}


def test_any_data_is_accessible_through_job_data(client):
    jid = client.queue("q").put(myJob, ["not", "a", "dict"])
    job = client.queue("q").pop()
    assert job.data == ["not", "a", "dict"]
    assert job["anything"] is None
    job.complete()
    assert client.jobs[jid].data == ["not", "a", "dict"]


def test_awesomeproject_put_from_a_prompt(store):
    # >>> qless.client().queue('foo').put(awesomeproject.Job, {'key': 'value'})
    jid = qless.client().queue("foo").put(awesomeproject.Job, {"key": "value"})
    assert testing.drain(store, queues=["foo"]) == {"completed": 1}
    assert zerog.client(store).jobs[jid].state == "complete"


# --- connecting ------------------------------------------------------------------------------


def test_a_redis_host_and_port_mean_zerog_s_store_on_that_redis():
    # Connecting to a remote machine
    server = redis_server.shared()
    client = qless.client(host="127.0.0.1", port=server.port, prefix="qless-seed")
    try:
        jid = client.queues["underpants"].put(myJob, {"count": 1})
        assert client.queues["underpants"].pop().jid == jid
        assert client.store.settings.url == f"redis://127.0.0.1:{server.port}/0?prefix=qless-seed"
    finally:
        client.close()
    assert redis_url("foo.bar.com", None, {"db": 2, "password": "p w"}) == (
        "redis://:p%20w@foo.bar.com:6379/2"
    )
    with pytest.raises(BackendUnavailable, match=r"redis://127.0.0.1:1/0"):
        qless.client(host="127.0.0.1", port=1)


def test_zerog_client_opens_any_zerog_url():
    client = zerog.client("memory://")
    jid = client.queues["q"].put("tests.seeds.qless_jobs.myJob", {})
    assert client.jobs[jid].klass_name == "tests.seeds.qless_jobs.myJob"
    client.close()


def test_classes_defined_in_a_function_are_refused_at_put(client):
    class Local:
        pass

    with pytest.raises(ValueError, match="module level"):
        client.queue("q").put(Local, {})
    with pytest.raises(NotSerializable, match="JSON"):
        client.queue("q").put(myJob, {"when": object()})
    assert len(client.queue("q")) == 0


# --- priority, tags, delay, retries ---------------------------------------------------------


def test_priority_lower_pops_sooner(client):
    queue = client.queue("underpants")
    first = queue.put(qless.gnomes.GnomesJob, {})
    urgent = queue.put(qless.gnomes.GnomesJob, {"address": "123 Brief St."}, priority=-100)
    assert [job.jid for job in queue.pop(2)] == [urgent, first]


def test_tags_are_searchable(client):
    queue = client.queue("underpants")
    jid = queue.put(qless.gnomes.GnomesJob, {}, tags=["tidy", "white", "briefs"])
    assert client.jobs[jid].tags == ["tidy", "white", "briefs"]
    assert client.jobs.tagged("white") == {"total": 1, "jobs": [jid]}
    assert client.jobs.tagged("grey") == {"total": 0, "jobs": {}}  # qless: an empty Lua table.


def test_delay_holds_a_job_back_and_priority_boosts_it_once_due(client, clock):
    queue = client.queue("underpants")
    queue.put(qless.gnomes.GnomesJob, {})
    later = queue.put(qless.gnomes.GnomesJob, {}, delay=3600)
    boosted = queue.put(qless.gnomes.GnomesJob, {}, delay=3600, priority=-1000)
    assert client.jobs[later].state == "scheduled"
    assert queue.jobs.scheduled() == [later, boosted]
    queue.pop().complete()
    assert queue.pop() is None
    clock.advance(3600)
    assert [job.jid for job in queue.pop(5)] == [boosted, later]


def test_retries_are_kept_with_the_job(client):
    queue = client.queue("underpants")
    jid = queue.put(qless.gnomes.GnomesJob, {}, retries=10)
    assert client.jobs[jid].original_retries == 10
    assert client.jobs[jid].retries_left == 10


# --- dependencies ----------------------------------------------------------------------------


def test_the_omelette_waits_for_eggs_and_pan(client):
    eggs_jid = client.queues["buy_eggs"].put(myJob, {"count": 12})
    pan_jid = client.queues["buy_pan"].put(myJob, {"coating": "non-stick"})
    omelette = client.queues["omelete"].put(
        myJob, {"toppings": ["onions", "ham"]}, depends=[eggs_jid, pan_jid]
    )
    assert client.jobs[omelette].state == "depends"
    assert client.jobs[omelette].dependencies == [eggs_jid, pan_jid]
    assert client.queues["omelete"].jobs.depends() == [omelette]
    assert client.queues["omelete"].pop() is None

    client.queues["buy_eggs"].pop().process()
    assert client.queues["omelete"].pop() is None
    client.queues["buy_pan"].pop().process()

    job = client.queues["omelete"].pop()
    assert job.jid == omelette
    assert job["toppings"] == ["onions", "ham"]


def test_depend_and_undepend_change_what_a_job_waits_for(client):
    eggs = client.queues["buy_eggs"].put(myJob, {})
    pan = client.queues["buy_pan"].put(myJob, {})
    omelette = client.queues["omelete"].put(myJob, {}, depends=[eggs])
    job = client.jobs[omelette]
    job.depend(pan)
    assert sorted(job.dependencies) == sorted([eggs, pan])
    assert client.jobs[pan].dependents == [omelette]
    job.undepend(all=True)
    assert job.state == "waiting"


# --- recurring jobs --------------------------------------------------------------------------


def test_nightly_maintenance_spawns_a_job_now_then_every_interval(client, clock):
    rid = client.queues["maintenance"].recur(
        myJob, {"tasks": ["sweep", "mop", "scrub"]}, interval=60 * 60 * 24
    )
    first = client.queues["maintenance"].pop()
    assert first["tasks"] == ["sweep", "mop", "scrub"]
    assert first.spawned_from_jid == rid
    first.complete()
    assert client.queues["maintenance"].pop() is None
    clock.advance(60 * 60 * 24)
    assert client.queues["maintenance"].pop() is not None
    assert client.queues["maintenance"].jobs.recurring() == [rid]
    assert client.queues["maintenance"].counts["recurring"] == 1


def test_an_offset_delays_the_first_recurring_job(client, clock):
    client.queues["maintenance"].recur(
        myJob, {"tasks": ["sweep"]}, interval=86400, offset=3600
    )  # the README's recur(..., interval=86400, offset=3600)
    assert client.queues["maintenance"].pop() is None
    clock.advance(3600)
    assert client.queues["maintenance"].pop()["tasks"] == ["sweep"]


def test_a_recurring_job_can_be_read_changed_and_cancelled(client, clock):
    rid = client.queues["maintenance"].recur(myJob, {"tasks": []}, interval=60, priority=5)
    recurring = client.jobs[rid]
    assert isinstance(recurring, qless.RecurringJob)
    assert (recurring.klass_name, recurring.interval, recurring.priority) == (
        "tests.seeds.qless_jobs.myJob",
        60,
        5,
    )
    recurring.data = {"tasks": ["dust"]}
    recurring.priority = -1
    recurring.retries = 2
    recurring.tags = ["chores", "daily"]
    recurring.untag("daily")
    spawned = client.queues["maintenance"].pop()
    assert (spawned.data, spawned.priority, spawned.original_retries, spawned.tags) == (
        {"tasks": ["dust"]},
        -1,
        2,
        ["chores"],
    )
    spawned.complete()
    assert recurring.cancel() is True
    clock.advance(600)
    assert client.queues["maintenance"].pop() is None
    assert client.jobs[rid] is None


# --- pop, heartbeat, complete, fail ----------------------------------------------------------


def test_pop_one_or_twenty(client):
    queue = client.queue("underpants")
    for n in range(25):
        queue.put(myJob, {"n": n})
    # Get a single job
    job = queue.pop()
    # Get 20 jobs
    jobs_ = queue.pop(20)
    assert job["n"] == 0
    assert [j["n"] for j in jobs_] == list(range(1, 21))
    assert len(queue.pop(20)) == 4
    assert queue.pop() is None
    assert queue.pop(20) == []


def test_ttl_expires_and_heartbeat(client, clock):
    queue = client.queue("underpants")
    queue.put(myJob, {})
    job = queue.pop()
    # When I have to heartbeat / complete it by (seconds since epoch)
    assert job.expires == clock.now + 60
    # How long until it expires
    assert job.ttl() == 60
    clock.advance(45)
    assert job.ttl() == 15
    assert job.ttl == 15  # later qless-py reads it as a number
    # I call stay-offsies!
    job.heartbeat()
    assert job.expires_at == clock.now + 60
    job["progress"] = "half"
    job.heartbeat()
    assert client.jobs[job.jid]["progress"] == "half"
    # I'm done!
    job.complete()
    assert client.jobs[job.jid].state == "complete"


def test_complete_into_another_queue(client):
    queue = client.queue("underpants")
    jid = queue.put(myJob, {})
    job = queue.pop()
    # I'm done with this step, but need to go into another queue
    job.complete("anotherQueue")
    moved = client.jobs[jid]
    assert (moved.state, moved.queue_name) == ("waiting", "anotherQueue")
    assert client.queue("anotherQueue").pop().jid == jid


def test_fail_with_a_group_and_a_message(client):
    jid = client.queue("underpants").put(myJob, {"a": 1})
    job = client.queue("underpants").pop()
    assert job.fail("gnome-strike", "the gnomes want a raise") == jid
    failed = client.jobs[jid]
    assert failed.state == "failed"
    assert failed.failure["group"] == "gnome-strike"
    assert failed.failure["message"] == "the gnomes want a raise"
    assert client.jobs.failed() == {"gnome-strike": 1}
    listed = client.jobs.failed("gnome-strike")
    assert listed["total"] == 1
    assert listed["jobs"][0].data == {"a": 1}


def test_heartbeat_after_the_lock_is_gone_raises_lost_lock(client):
    queue = client.queue("underpants")
    queue.put(myJob, {})
    job = queue.pop()
    job.timeout()  # the lock ends now and the job is taken back at once
    assert client.jobs[job.jid].state == "waiting"
    assert queue.jobs.stalled() == []
    again = queue.pop()
    assert again.jid == job.jid
    with pytest.raises(qless.LostLockError):
        job.heartbeat()
    with pytest.raises(qless.LostLockError):
        job.complete()
    again.complete()
    with pytest.raises(qless.LostLockError):
        again.complete()


def test_a_job_read_by_jid_cannot_be_settled_by_someone_else(client):
    jid = client.queue("q").put(myJob, {})
    with pytest.raises(qless.LostLockError, match="it is waiting"):
        client.jobs[jid].complete()
    client.queue("q").pop()
    other = qless.client(hostname="another-host")
    with pytest.raises(qless.LostLockError, match="another-host"):
        other.jobs[jid].heartbeat()
    client.jobs[jid].complete()  # the same worker name holds it, as in qless.
    assert client.jobs[jid].state == "complete"


def test_retry_puts_a_job_back_until_its_retries_are_used(client, clock):
    queue = client.queue("q")
    jid = queue.put(myJob, {}, retries=1)
    assert queue.pop().retry(delay=10) == 0
    assert client.jobs[jid].state == "scheduled"
    assert client.jobs[jid].retries_left == 0
    clock.advance(10)
    assert queue.pop().retry() == -1
    failed = client.jobs[jid]
    assert failed.state == "failed"
    assert failed.failure["group"] == "failed-retries-q"


# --- jobs run by a worker --------------------------------------------------------------------


def test_an_unknown_klass_fails_clearly_and_nothing_is_lost(client, store):
    jid = client.queue("q").put("no.such.module.GnomesJob", {"key": "kept"})
    job = client.queue("q").pop()
    job.process()
    failed = client.jobs[jid]
    assert failed.state == "failed"
    assert failed.failure["group"] == "q-ImportError"
    assert "no.such.module.GnomesJob" in failed.failure["message"]
    assert failed.data == {"key": "kept"}
    # The same through a worker: the second job too is failed, named, kept.
    other = client.queue("q").put("tests.seeds.gnomes.NoSuchJob", {"key": "kept"})
    assert drain(store) == {"failed": 1}
    assert client.jobs[other].failure["group"] == "q-ImportError"
    assert "NoSuchJob" in client.jobs[other].failure["message"]
    assert client.jobs.failed() == {"q-ImportError": 2}


def test_an_exception_fails_the_job_with_its_class_as_group(client, store):
    jid = client.queue("q").put(jobs.Breaks, {"what": "socks"})
    assert drain(store) == {"failed": 1}
    failure = client.jobs[jid].failure
    assert failure["group"] == "q-ValueError"
    assert "cannot handle socks" in failure["message"]


def test_a_missing_method_fails_the_job(client):
    jid = client.queue("q").put(jobs.NoMethods, {})
    client.queue("q").pop().process()
    assert client.jobs[jid].failure["group"] == "q-method-missing"


def test_qless_retry_retries_the_listed_exceptions(client, store):
    jid = client.queue("q").put(jobs.Flaky, {}, retries=2)
    assert drain(store) == {"retried": 2, "failed": 1}
    failed = client.jobs[jid]
    assert failed.failure["group"] == "failed-retries-q"
    assert [h["what"] for h in failed.history].count("popped") == 3


def test_a_method_that_forgets_to_complete_is_completed_with_a_warning(client, store):
    jid = client.queue("q").put(jobs.ForgetsToComplete, {})
    assert drain(store) == {"completed": 1}
    record = store.get(jid)
    assert record["values"] == {"seen": True}
    assert "without complete" in record["events"][-1]["msg"]


def test_worker_heartbeat_retry_and_complete_next_go_through_the_runner(client, store, clock):
    beat = client.queue("q").put(jobs.Heartbeats, {})
    retried = client.queue("r").put(jobs.Retries, {})
    moved = client.queue("m").put(jobs.Moves, {})
    testing.drain(store, queues=["q", "r", "m"], include_scheduled=False)
    assert client.jobs[beat]["beat"] == clock.now + 60
    assert client.jobs[retried].state == "scheduled"
    assert store.get(retried)["errors"][-1]["msg"] == "transient: try again in 30 s"
    assert (client.jobs[moved].queue_name, client.jobs[moved].state) == (
        "anotherQueue",
        "scheduled",
    )
    clock.advance(10)
    testing.drain(store, queues=["anotherQueue"], include_scheduled=False)
    assert client.jobs[moved].state == "complete"


def test_one_worker_runs_qless_jobs_job_classes_and_deferred_functions_alike(
    client, store, monkeypatch
):
    from tests.jobs.sample_jobs import CountJob
    from zerog.deferrable.backend import Backend
    from zerog.deferrable.queue import Queue as DeferrableQueue

    mixed = Backend("mixed", DeferrableQueue(store, "mixed"), DeferrableQueue(store, "errors"))
    monkeypatch.setattr(jobs.socks, "backend", mixed)
    jobs.SOCKS_COUNTED.clear()
    deferred = jobs.count_socks.later(12)
    counted = zerog.make_base_job({"target": 1}, CountJob.JOB_TYPE).enqueue(
        queue="mixed", store=store
    )
    qless_jid = client.queue("mixed").put(myJob, {})
    assert testing.drain(store, queues=["mixed"]) == {"completed": 3}
    assert jobs.SOCKS_COUNTED == [12]
    assert store.get(counted)["result"] == {"counted": 1}
    assert store.get(deferred)["state"] == "complete"
    assert client.jobs[qless_jid].data == {"done": True}


# --- the client's views ----------------------------------------------------------------------


def test_queue_counts_length_and_job_lists(client, clock):
    queue = client.queue("q")
    running = queue.put(myJob, {})
    waiting = queue.put(myJob, {})
    scheduled = queue.put(myJob, {}, delay=60)
    depends = queue.put(myJob, {}, depends=[waiting])
    popped = queue.pop()
    assert popped.jid == running
    assert queue.counts == {
        "name": "q", "paused": False, "waiting": 1, "running": 1, "stalled": 0,
        "scheduled": 1, "depends": 1, "recurring": 0,
    }  # fmt: skip
    assert len(queue) == 3
    assert queue.jobs.running() == [running]
    assert queue.jobs.scheduled() == [scheduled]
    assert queue.jobs.depends() == [depends]
    assert queue.peek().jid == waiting
    assert [c["name"] for c in client.queues.counts] == ["q"]
    assert client.workers[client.worker_name]["jobs"] == [running]
    assert {"name": client.worker_name, "jobs": 1, "stalled": 0} in client.workers.counts


def test_pause_stops_pops_until_unpause(client):
    queue = client.queue("q")
    queue.put(myJob, {})
    queue.pause()
    assert queue.counts["paused"] is True
    assert queue.pop() is None
    queue.unpause()
    assert queue.pop() is not None


def test_stats_count_waits_runs_and_failures(client, clock):
    queue = client.queue("q")
    queue.put(myJob, {})
    queue.put(myJob, {})
    clock.advance(5)
    queue.pop().complete()
    queue.pop().fail("broken", "on purpose")
    stats = queue.stats()
    assert stats["wait"]["count"] == 2
    assert stats["wait"]["mean"] == 5
    assert stats["run"]["count"] == 1  # run times are those of completed runs.
    assert stats["failed"] == 1


def test_config_keys_of_the_readme(client):
    config = client.config
    assert config["heartbeat"] == 60
    assert config["stats-history"] == 30
    assert config["histogram-history"] == 7
    assert config["jobs-history-count"] == 50000
    assert config["jobs-history"] == 7 * 24 * 60 * 60
    assert config["heartbeat-underpants"] is None
    config["heartbeat-underpants"] = 10
    config["jobs-history"] = 3600
    assert client.queue("underpants").heartbeat == 10
    assert client.queue("profit").heartbeat == 60
    client.queue("underpants").put(myJob, {})
    assert client.queue("underpants").pop().ttl() == 10
    assert config.get("jobs-history") == 3600
    del config["heartbeat-underpants"]
    assert config["heartbeat-underpants"] is None
    assert "heartbeat" in config
    config.clear()
    assert config["jobs-history"] == 7 * 24 * 60 * 60


def test_job_changes_priority_tags_tracking_moves_and_cancel(client, store):
    jid = client.queue("q").put(myJob, {})
    job = client.jobs[jid]
    job.priority = 10
    job.tag("a", "b")
    job.untag("a")
    job.track()
    assert (client.jobs[jid].priority, client.jobs[jid].tags) == (10, ["b"])
    assert [j.jid for j in client.jobs.tracked()["jobs"]] == [jid]
    job.untrack()
    assert client.jobs.tracked() == {"jobs": [], "expired": {}}
    job.move("elsewhere")
    assert client.jobs[jid].queue_name == "elsewhere"
    job.cancel()
    assert client.jobs[jid] is None  # qless forgets a cancelled job...
    assert store.get(jid)["state"] == "cancelled"  # ...zerog keeps its record.
    with pytest.raises(InvalidTransition):
        job.priority = 1


def test_a_failed_job_moved_to_another_queue_runs_there(client):
    jid = client.queue("q").put(myJob, {"n": 1})
    client.queue("q").pop().fail("broken", "!")
    client.jobs[jid].move("repaired")
    assert client.queue("repaired").pop().jid == jid
    other = client.queue("q").put(myJob, {})
    assert [job.jid for job in client.jobs.get(jid, other, "nope")] == [jid, other]
    assert client.jobs.get("nope") == []  # qless-py: always a list.


def test_move_with_a_delay_reschedules_a_queued_job(client, clock):
    jid = client.queue("q").put(myJob, {})
    client.jobs[jid].move("later", delay=60)
    assert client.jobs[jid].state == "scheduled"
    assert client.queue("later").pop() is None
    clock.advance(60)
    assert client.queue("later").pop().jid == jid


def test_history_tells_what_happened(client):
    jid = client.queue("q").put(myJob, {})
    client.queue("q").pop().complete()
    assert [h["what"] for h in client.jobs[jid].history] == ["put", "popped", "done"]


# --- events ----------------------------------------------------------------------------------


def test_events_of_tracked_jobs_reach_their_callbacks(client, store):
    seen = []
    events = client.events
    for name in ("put", "popped", "completed", "failed", "canceled", "track", "untrack"):
        events.on(name, lambda jid, name=name: seen.append((name, jid)))
    tracked = client.queue("q").put(myJob, {})
    other = client.queue("q").put(myJob, {})
    client.track(tracked)
    assert events.poll() == 2
    assert seen == [("track", tracked), ("put", tracked)]

    testing.drain(store, queues=["q"])
    events.poll()
    assert seen[2:] == [("popped", tracked), ("completed", tracked)]
    assert all(jid != other for _, jid in seen)

    client.jobs[tracked].untrack()
    events.poll()
    assert seen[-1] == ("untrack", tracked)


def test_events_listen_until_stopped(client):
    seen = []
    events = client.events

    def failed(jid):
        seen.append(jid)
        events.stop()

    events.on("failed", failed)
    jid = client.queue("q").put(myJob, {})
    client.jobs[jid].track()
    client.queue("q").pop().fail("broken", "!")
    events.listen(timeout=30, interval=0.01)  # returns at the first failure, not after 30 s.
    assert seen == [jid]
    with pytest.raises(NotImplementedError):
        events.on("exploded", print)


def test_events_thread_listens_in_the_background(client):
    completed = threading.Event()
    events = client.events
    events.on("completed", lambda jid: completed.set())
    jid = client.queue("q").put(myJob, {})
    client.track(jid)
    with events.thread(interval=0.01):
        client.queue("q").pop().complete()
        assert completed.wait(10)
