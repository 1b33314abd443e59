"""Input checks: what no backend should see, refused before anything is stored.

Each message names the field and the bad value, so that a caller (CLI, HTTP, Python) can show
it as it is.
"""

from __future__ import annotations

from zerog.config import STALL_POLICIES
from zerog.errors import InvalidOptions
from zerog.model import Change
from zerog.record import JobSpec

MAX_TAG_CHARS = 256  # a tag is a label, not a document.
MAX_QUEUE_CHARS = 200  # a queue is a name, not a document.


def check_spec(spec: JobSpec) -> None:
    """Refuse a job that could not be stored or could never run; nothing is stored then."""
    problems = [*_flow_problems(spec), *_shape_problems(spec)]
    if problems:
        raise InvalidOptions("; ".join(problems))


def _shape_problems(spec: JobSpec) -> list[str]:
    problems = []
    if not spec.type or not isinstance(spec.type, str):
        problems.append(f"type must be a non-empty string, not {spec.type!r}")
    problems.extend(_queue_problems(spec.queue))
    if not _is_int(spec.priority):
        problems.append(f"priority must be an integer, not {spec.priority!r}")
    if spec.delay_seconds < 0:
        problems.append(f"delay must be >= 0 seconds, not {spec.delay_seconds!r}")
    if spec.ttr_seconds is not None and spec.ttr_seconds <= 0:
        problems.append(f"ttr must be > 0 seconds, not {spec.ttr_seconds!r}")
    if spec.max_retries is not None and spec.max_retries < 0:
        problems.append(f"max_retries must be >= 0, not {spec.max_retries!r}")
    if spec.stall_seconds is not None and not spec.stall_seconds > 0:
        problems.append(f"stall_seconds must be > 0, not {spec.stall_seconds!r}")
    if spec.stall_policy is not None and spec.stall_policy not in STALL_POLICIES:
        problems.append(
            f"stall_policy must be one of {', '.join(STALL_POLICIES)}, not {spec.stall_policy!r}"
        )
    if spec.ttl_seconds is not None and spec.ttl_seconds <= spec.delay_seconds:
        problems.append(
            f"ttl ({spec.ttl_seconds!r} s) must be longer than the delay "
            f"({spec.delay_seconds!r} s), or the job could never run"
        )
    if spec.memory_limit_mb is not None and not spec.memory_limit_mb > 0:
        problems.append(f"memory_limit_mb must be > 0, not {spec.memory_limit_mb!r}")
    if not isinstance(spec.values, dict):
        problems.append(f"values must be a JSON object, not {type(spec.values).__name__}")
    return problems


def _flow_problems(spec: JobSpec) -> list[str]:
    problems = []
    if isinstance(spec.depends, str) or not all(isinstance(d, str) and d for d in spec.depends):
        problems.append(f"depends must be a list of job ids, not {spec.depends!r}")
    if spec.on_duplicate not in ("merge", "refuse"):
        problems.append(f"on_duplicate must be 'merge' or 'refuse', not {spec.on_duplicate!r}")
    window = spec.unique_window_seconds
    if window is not None and (spec.unique in (None, False) or not window > 0):
        problems.append(f"unique_window_seconds must be > 0 with a unique key, not {window!r}")
    if spec.debounce is not None:
        if spec.debounce.seconds <= 0:
            problems.append(f"debounce must be > 0 seconds, not {spec.debounce.seconds!r}")
        if spec.delay_seconds:
            problems.append("a debounced job cannot also have a delay (debounce delays it)")
    if isinstance(spec.throttles, str) or not all(isinstance(t, str) and t for t in spec.throttles):
        problems.append(f"throttles must be a list of names, not {spec.throttles!r}")
    if spec.fair_key is not None and not (isinstance(spec.fair_key, str) and spec.fair_key):
        problems.append(f"fair_key must be a non-empty string or None, not {spec.fair_key!r}")
    problems.extend(problem for tag in spec.tags for problem in _tag_problems(tag))
    return problems


def check_change(change: Change) -> None:
    """Refuse a change no backend should see: a bad queue, priority, tag or delay."""
    problems = [] if change.queue is None else _queue_problems(change.queue)
    if change.priority is not None and not _is_int(change.priority):
        problems.append(f"priority must be an integer, not {change.priority!r}")
    for tag in (*change.add_tags, *change.remove_tags):
        problems.extend(_tag_problems(tag))
    if change.delay_seconds is not None and not change.delay_seconds >= 0:
        problems.append(f"delay must be >= 0 seconds, not {change.delay_seconds!r}")
    if problems:
        raise InvalidOptions("; ".join(problems))


def check_queue(queue: str) -> None:
    """Refuse a queue name that is empty, not a string, or too long."""
    problems = _queue_problems(queue)
    if problems:
        raise InvalidOptions(problems[0])


def check_limit(name: str, maximum: int | None) -> None:
    """Refuse a limit without a name, or whose maximum is no whole number >= 0."""
    if not isinstance(name, str) or not name:
        raise InvalidOptions(f"a limit's name is a non-empty string, not {name!r}")
    if maximum is not None and (not _is_int(maximum) or maximum < 0):
        raise InvalidOptions(f"a limit is a whole number >= 0 or None, not {maximum!r}")


def check_rate_limit(name: str, maximum: int | None, per: float) -> None:
    """Refuse a rate limit without a name, a maximum that is no whole number >= 0, or a
    period that is not a number of seconds > 0."""
    check_limit(name, maximum)
    if isinstance(per, bool) or not isinstance(per, int | float) or not 0 < per <= 86400 * 366:
        raise InvalidOptions(f"a rate limit's period is seconds > 0 (a year at most), not {per!r}")


def _queue_problems(queue: object) -> list[str]:
    if not queue or not isinstance(queue, str) or len(queue) > MAX_QUEUE_CHARS:
        return [
            f"queue must be a non-empty string of at most {MAX_QUEUE_CHARS} characters, "
            f"not {queue!r}"
        ]
    return []


def _tag_problems(tag: object) -> list[str]:
    if not isinstance(tag, str) or not tag or len(tag) > MAX_TAG_CHARS:
        return [f"a tag is a non-empty string of at most {MAX_TAG_CHARS} characters: {tag!r}"]
    return []


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
