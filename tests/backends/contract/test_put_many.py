"""Conformance: a bulk put (Backend.put_many) keeps every rule of one put per job, whether the
backend stores plain jobs many rows per statement (the SQL engine) or one by one."""

from __future__ import annotations

import pytest

from tests.backends.support.helpers import events, job_record, take, uuids
from zerog.backends.contract import Backend
from zerog.errors import JobNotFound
from zerog.model import State


def test_a_bulk_put_keeps_tags_history_and_order(backend: Backend) -> None:
    # Given 1,200 plain jobs (more than one statement's worth), each tagged
    records = [job_record(backend, values={"i": i}, tags=[f"t{i % 3}"]) for i in range(1200)]
    # When they are put at once
    placed = backend.put_many(records)
    # Then each is stored as put, with its tags and one put in its history, in put order
    assert [p.uuid for p in placed] == uuids(records)
    assert {p.outcome for p in placed} == {"put"}
    assert backend.get(records[700]["uuid"]) == records[700]
    assert events(backend, records[1199]["uuid"]) == ["put"]
    assert [take(backend).lease.uuid for _ in range(3)] == uuids(records[:3])


def test_a_bulk_put_mixes_plain_jobs_with_ones_that_need_rules(backend: Backend) -> None:
    # Given a batch: a plain job, one depending on it, a unique job, its duplicate, a plain one
    first = job_record(backend)
    after = job_record(backend, depends=[first["uuid"]])
    unique = job_record(backend, unique="once")
    again = job_record(backend, unique="once")
    last = job_record(backend)
    # When it is put at once
    placed = backend.put_many([first, after, unique, again, last])
    # Then the rules hold as with one put each: the dependent waits, the duplicate merges
    assert [p.outcome for p in placed] == ["put", "put", "put", "merged", "put"]
    assert placed[3].uuid == unique["uuid"]
    assert backend.get(after["uuid"])["state"] == State.DEPENDS.value
    assert backend.get(first["uuid"])["dependents"] == [after["uuid"]]
    assert [take(backend).lease.uuid for _ in range(3)] == uuids([first, unique, last])


def test_a_bulk_put_with_a_repeated_uuid_stores_none(backend: Backend) -> None:
    # Given a batch of plain jobs two of which share a uuid
    records = [job_record(backend) for _ in range(5)]
    records[4] = job_record(backend, uuid=records[1]["uuid"])
    # When it is put / Then it is refused and none of it is stored
    with pytest.raises(ValueError, match="id"):
        backend.put_many(records)
    for record in records:
        with pytest.raises(JobNotFound):
            backend.get(record["uuid"])


def test_a_bulk_put_repeating_a_stored_uuid_names_it_and_stores_none(backend: Backend) -> None:
    # Given a stored job, and a batch of plain jobs whose last repeats its uuid
    backend.put(job_record(backend, uuid="taken"))
    batch = [job_record(backend), job_record(backend), job_record(backend, uuid="taken")]
    # When it is put / Then the error names the uuid, and none of the batch is stored
    with pytest.raises(ValueError, match="taken"):
        backend.put_many(batch)
    for record in batch[:2]:
        with pytest.raises(JobNotFound):
            backend.get(record["uuid"])
