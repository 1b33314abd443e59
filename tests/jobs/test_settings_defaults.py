"""The settings' TTR and retries are the defaults of jobs that set neither."""

from __future__ import annotations

import pytest

from zerog.backends.memory import MemoryBackend
from zerog.record import JobSpec
from zerog.settings import Settings
from zerog.store import Store, open_store


def test_a_job_without_ttr_or_retries_takes_the_settings() -> None:
    # Given a store whose settings say 7 s leases and 2 retries
    store = Store(MemoryBackend(), Settings(url="memory://", ttr_seconds=7.0, max_retries=2))
    # When a job that sets neither is enqueued
    record = store.get(store.enqueue(JobSpec(type="t", queue="q")))
    # Then it has them
    assert record["ttr_seconds"] == 7.0
    assert record["max_retries"] == 2


def test_the_job_and_the_store_config_come_before_the_settings() -> None:
    store = Store(MemoryBackend(), Settings(url="memory://", ttr_seconds=7.0, max_retries=2))
    own = store.get(store.enqueue(JobSpec(type="t", queue="q", ttr_seconds=3.0, max_retries=0)))
    assert (own["ttr_seconds"], own["max_retries"]) == (3.0, 0)
    store.set_config("heartbeat", 11)
    configured = store.get(store.enqueue(JobSpec(type="t", queue="q")))
    assert configured["ttr_seconds"] == 11.0


def test_the_environment_sets_them(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZEROG_TTR_SECONDS", "9")
    monkeypatch.setenv("ZEROG_MAX_RETRIES", "1")
    store = open_store("memory://")
    record = store.get(store.enqueue(JobSpec(type="t", queue="q")))
    assert (record["ttr_seconds"], record["max_retries"]) == (9.0, 1)
