"""Redis: recurrences are spawned inside the claim script, so the Lua code computes cron
schedules itself (lua/lib/cron.lua). It must agree with croniter, which the other backends
use, on every line it accepts, and refuse the others when a recurrence is stored."""

from __future__ import annotations

import random

import pytest

from tests.backends.conftest import START
from zerog.backends.redis import RedisBackend
from zerog.errors import InvalidOptions
from zerog.recurrence import RecurSpec, cron_next, new_recurrence
from zerog.store import Store

LINES = [
    "* * * * *",
    "*/5 * * * *",
    "0 0 * * *",
    "15 10 * * 1-5",
    "0 0 1 * *",
    "0 12 * * sun",
    "0 0 29 2 *",
    "5,10,40 8-18/2 * jan,jul *",
    "0 0 13 * fri",
    "30 4 1,15 * 5",
    "0 9 */10 * *",
    "59 23 31 12 *",
    "*/7 */3 * * *",
    "0 0 * * 7",
    "10/20 1 ? * MON-FRI",
    "@hourly",
    "@daily",
    "@weekly",
    "@monthly",
    "@yearly",
]


def _times() -> list[float]:
    picked = random.Random(17)
    day = 86400.0
    times = [START, START + 40.0, 1_704_067_200.0, 1_709_164_800.0 - 60.0]  # years, leap day.
    times += [START + picked.uniform(0, 800 * day) for _ in range(12)]
    return times + [float(int(t) // 60 * 60) for t in times[4:8]]  # on a minute exactly.


@pytest.mark.parametrize("line", LINES)
def test_the_lua_schedule_is_croniters(backend: RedisBackend, line: str) -> None:
    for after in _times():
        found = float(backend.script("cron", line, repr(after))[1])
        assert found == cron_next(line, after), (line, after)


@pytest.mark.parametrize("line", ["0 0 L * *", "0 0 * * 5#2", "0 0 0 * * *", "* * * *"])
def test_a_line_the_scripts_cannot_follow_is_refused_when_stored(store: Store, line: str) -> None:
    with pytest.raises(InvalidOptions):
        store.recur(RecurSpec(type="t", queue="c", cron=line))
    assert store.recurrences() == []


def test_a_cron_recurrence_stored_spawns_on_the_lua_schedule(backend: RedisBackend) -> None:
    doc = new_recurrence(RecurSpec(type="t", queue="c", cron="*/10 * * * *"), backend.clock())
    backend.recur(doc)
    assert backend.recurrences()[0]["next_at"] == doc["next_at"]
