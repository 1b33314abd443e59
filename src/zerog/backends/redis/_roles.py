"""The Redis backend's other roles: queues and workers, schedules, limits, upkeep."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from zerog import recurrence as recurrences
from zerog import stats
from zerog.backends.contract import STALE_WORKER_SECONDS
from zerog.backends.redis import _codec
from zerog.backends.redis._base import RedisBase
from zerog.errors import JobNotFound
from zerog.model import Retention

_compact = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode


class RolesPart(RedisBase):
    """Queues, Schedules, Limits and Upkeep, each method one script or one plain command."""

    # --- queues and workers ------------------------------------------------------------------

    def pause_queue(self, queue: str, paused: bool) -> None:
        self.script("pause", queue, "1" if paused else "0")

    def paused_queues(self) -> frozenset[str]:
        found = self.command(lambda: self.client.smembers(self.key("paused")))
        return frozenset(_codec.s(q) for q in found)

    def register_worker(self, worker: dict[str, Any]) -> None:
        entry = {k: v for k, v in worker.items() if k != "last_seen"}
        text = _compact(entry)  # TypeError or ValueError when it is not JSON.
        self.script("register", str(worker["id"]), text, repr(STALE_WORKER_SECONDS))

    def unregister_worker(self, worker_id: str) -> None:
        self.script("unregister", worker_id)

    def workers(self, max_age_seconds: float) -> list[dict[str, Any]]:
        reply = self.script("workers", repr(float(max_age_seconds)))
        found = [json.loads(text) for text in reply[1:]]
        return sorted(found, key=lambda w: w.get("started_at") or 0)

    # --- schedules ---------------------------------------------------------------------------

    def recur(self, recurrence: dict[str, Any]) -> None:
        if recurrence.get("cron"):
            self._check_cron(recurrence["cron"])
        self.script("recur", str(recurrence["id"]), *_codec.doc_args(recurrence))

    def _check_cron(self, line: str) -> None:
        """Refuse a cron line the claim script could not follow (InvalidOptions)."""
        self.script("cron", line, repr(float(self.clock())))

    def unrecur(self, recurrence_id: str) -> bool:
        return bool(int(self.script("unrecur", recurrence_id)[1]))

    def recurrences(self, queue: str | None = None) -> list[dict[str, Any]]:
        found = [json.loads(t) for t in self.script("recurrences", "")[1:]]
        return [r for r in found if queue is None or r["queue"] == queue]

    def update_recurrence(self, recurrence_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        found = self.script("recurrences", recurrence_id)[1:]
        if not found:
            raise JobNotFound(recurrence_id)
        changed = json.loads(found[0])
        recurrences.apply_update(changed, json.loads(json.dumps(changes)), self.clock())
        rescheduled = "interval_seconds" in changes or "cron" in changes
        keys = [*changes, "interval_seconds", "cron"] if rescheduled else list(changes)
        if rescheduled and changed.get("cron"):
            self._check_cron(changed["cron"])
        doc = {key: changed[key] for key in dict.fromkeys(keys)}
        reply = self.script(
            "update_recur", recurrence_id, "1" if rescheduled else "0", *_codec.doc_args(doc)
        )
        updated: dict[str, Any] = json.loads(reply[1])
        return updated

    # --- limits ------------------------------------------------------------------------------

    def set_limit(self, name: str, maximum: int | None) -> None:
        self.script("set_limit", name, "" if maximum is None else str(int(maximum)))

    def limits(self) -> dict[str, int]:
        found = self.command(lambda: self.client.hgetall(self.key("limits")))
        return {_codec.s(k): int(v) for k, v in found.items()}

    def set_rate_limit(self, name: str, maximum: int | None, per: float) -> None:
        rate = "" if maximum is None else f"{int(maximum)} {float(per)!r}"
        self.script("set_rate_limit", name, rate)

    def rate_limits(self) -> dict[str, tuple[int, float]]:
        found = self.command(lambda: self.client.hgetall(self.key("rates")))
        rates = {_codec.s(k): _codec.s(v).split() for k, v in found.items()}
        return {name: (int(maximum), float(per)) for name, (maximum, per) in rates.items()}

    # --- upkeep ------------------------------------------------------------------------------

    def config(self) -> dict[str, Any]:
        found = self.command(lambda: self.client.hgetall(self.key("config")))
        return {_codec.s(k): json.loads(v) for k, v in found.items()}

    def set_config(self, key: str, value: Any) -> None:
        name = self.key("config")
        if value is None:
            self.command(lambda: self.client.hdel(name, key))
        else:
            text = _compact(value)
            self.command(lambda: self.client.hset(name, key, text))

    def add_stats(self, deltas: Sequence[Any]) -> None:
        args = [_stats_arg(delta) for delta in deltas]
        for start in range(0, len(args), 100):
            self.script("add_stats", *args[start : start + 100])

    def stats(self, queue: str, day: float) -> dict[str, Any]:
        name = self.key("stats", str(int(day)), queue)
        found = self.command(lambda: self.client.hgetall(name))
        doc = stats.empty()
        for raw, value in found.items():
            field = _codec.s(raw)
            if field in stats.COUNTERS:
                doc[field] = int(value)
                continue
            timing, _, rest = field.partition(".")
            if rest.startswith("h."):
                doc[timing]["histogram"][int(rest[2:])] = int(value)
            elif rest == "count":
                doc[timing]["count"] = int(value)
            else:
                doc[timing][rest] = float(value)
        return doc

    def prune(self, retention: Retention, limit: int = 1000) -> int:
        reply = self.script(
            "prune",
            repr(float(retention.jobs_seconds)),
            str(int(retention.jobs_count)),
            str(int(retention.stats_days)),
            str(int(retention.histogram_days)),
            str(max(0, int(limit))),
        )
        return int(reply[1])


def _stats_arg(delta: stats.StatsDelta) -> str:
    """A StatsDelta for ``add_stats.lua``: whole increments, and decimal ones as text."""
    whole: dict[str, int] = {"failures": delta.failures, "retries": delta.retries}
    decimal: dict[str, str] = {}
    for name in stats.TIMINGS:
        timing: stats.Timing = getattr(delta, name)
        whole[f"{name}.count"] = timing.count
        decimal[f"{name}.total"] = repr(float(timing.total))
        decimal[f"{name}.squares"] = repr(float(timing.squares))
        for bucket, count in timing.histogram.items():
            whole[f"{name}.h.{bucket}"] = count
    return str(
        _compact(
            {
                "day": int(delta.day),
                "queue": delta.queue,
                "i": {k: v for k, v in whole.items() if v},
                "f": {k: v for k, v in decimal.items() if float(v)},
            }
        )
    )
