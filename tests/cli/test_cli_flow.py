"""The flow commands on a real SQLite file: priority, move, tag, untag, timeout, recurring,
unrecur, limit and stats."""

from __future__ import annotations

import json
from contextlib import closing
from typing import Any

from tests.cli.conftest import Zerog, one_line_error
from zerog.cli import EXIT_FAILURE, EXIT_OK
from zerog.recurrence import RecurSpec
from zerog.store import Store


def _json(zerog: Zerog, *args: str) -> Any:
    done = zerog(*args, "--json")
    assert done.returncode == EXIT_OK, done.stderr
    return json.loads(done.stdout)


def test_priority_move_tag_and_untag_change_a_queued_job(
    zerog: Zerog, db_url: str, enqueue_example: Zerog
) -> None:
    uuid = enqueue_example("example_report", '{"title": "t"}').stdout.strip()
    assert _json(zerog, "priority", uuid, "-7", "--url", db_url)["priority"] == -7
    assert _json(zerog, "move", uuid, "urgent", "--url", db_url)["queue"] == "urgent"
    assert _json(zerog, "tag", uuid, "vip", "red", "--url", db_url)["tags"] == ["vip", "red"]
    assert _json(zerog, "untag", uuid, "red", "--url", db_url)["tags"] == ["vip"]
    history = _json(zerog, "job", uuid, "--url", db_url)["history"]
    assert [h["event"] for h in history][-2:] == ["priority", "moved"]


def test_a_refused_change_is_one_line_and_changes_nothing(
    zerog: Zerog, db_url: str, enqueue_example: Zerog
) -> None:
    uuid = enqueue_example("example_report", '{"title": "t"}').stdout.strip()
    zerog("cancel", uuid, "--url", db_url)
    done = zerog("move", uuid, "elsewhere", "--url", db_url)
    assert done.returncode == EXIT_FAILURE
    assert "cancelled" in one_line_error(done.stderr)
    assert _json(zerog, "job", uuid, "--url", db_url)["queue"] != "elsewhere"


def test_recurring_unrecur_limit_and_stats(zerog: Zerog, db_url: str) -> None:
    with closing(Store.from_url(db_url)) as store:
        rid = store.recur(RecurSpec(type="t", queue="nightly", cron="0 3 * * *"))
    listed = _json(zerog, "recurring", "--url", db_url)["recurring"]
    assert [(r["id"], r["cron"]) for r in listed] == [(rid, "0 3 * * *")]
    assert _json(zerog, "unrecur", rid, "--url", db_url) == {"id": rid, "removed": True}
    assert zerog("unrecur", rid, "--url", db_url).returncode == EXIT_FAILURE
    assert _json(zerog, "limit", "queue:crawl", "4", "--url", db_url) == {
        "limits": {"queue:crawl": 4}
    }
    assert _json(zerog, "limit", "--url", db_url) == {"limits": {"queue:crawl": 4}}
    assert _json(zerog, "limit", "queue:crawl", "--unset", "--url", db_url) == {
        "limits": {"queue:crawl": None}
    }
    stats = _json(zerog, "stats", "nightly", "--url", db_url)
    assert (stats["wait"]["count"], stats["failures"]) == (0, 0)


def test_rate_limit_sets_shows_and_removes(zerog: Zerog, db_url: str) -> None:
    assert _json(zerog, "rate-limit", "queue:crawl", "20", "--per", "2", "--url", db_url) == {
        "rate_limits": {"queue:crawl": {"maximum": 20, "per": 2.0}}
    }
    shown = zerog("rate-limit", "--url", db_url)
    assert shown.returncode == EXIT_OK
    assert "queue:crawl: 20 per 2s" in shown.stdout
    assert _json(zerog, "rate-limit", "queue:crawl", "--unset", "--url", db_url) == {
        "rate_limits": {"queue:crawl": None}
    }
    refused = zerog("rate-limit", "queue:crawl", "5", "--per", "0", "--url", db_url)
    assert refused.returncode == EXIT_FAILURE
