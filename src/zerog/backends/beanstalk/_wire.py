"""How zerog's words map onto beanstalkd's: tube names, priorities, seconds, entry bodies.

beanstalkd counts in whole seconds and unsigned 32-bit integers; zerog's priorities are any
integer (lower first) and its durations are floats. Every conversion is here, in one place.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import re

MAX_U32 = 2**32 - 1
PRIORITY_OFFSET = 2**31
"""zerog priority p becomes beanstalkd priority p + 2**31, after clamping p to
[-2**31, 2**31 - 1]: order is kept for every priority in that range (zerog's default, 0,
becomes 2**31, the middle of beanstalkd's range); priorities beyond it tie with its ends."""

TTR_MARGIN_SECONDS = 1
"""beanstalkd's TTR is the store lease rounded up, plus this: beanstalkd then never gives a
job back before its lease in the store could have expired, and a worker that touches at a
third of its TTR never meets DEADLINE_SOON (which beanstalkd answers in a job's last second)."""

MAX_TUBE_BYTES = 200  # beanstalkd's limit on a tube name.
_TUBE_SAFE = re.compile(r"[A-Za-z0-9+/;._()\-]")


def priority_of(priority: int) -> int:
    """beanstalkd's priority (0..2**32-1) for a zerog priority; see PRIORITY_OFFSET."""
    return min(max(int(priority), -PRIORITY_OFFSET), PRIORITY_OFFSET - 1) + PRIORITY_OFFSET


def whole_seconds(seconds: float) -> int:
    """A delay in beanstalkd's whole seconds: rounded up, so that beanstalkd never hands a
    job out before it is due (a job due a fraction of a second earlier is kicked instead)."""
    if not seconds > 0:  # also NaN
        return 0
    return min(MAX_U32, math.ceil(seconds))


def ttr_of(ttr_seconds: float) -> int:
    """beanstalkd's TTR for a zerog TTR; see TTR_MARGIN_SECONDS."""
    return min(MAX_U32, max(1, math.ceil(ttr_seconds)) + TTR_MARGIN_SECONDS)


@functools.lru_cache(maxsize=4096)
def tube_of(prefix: str, queue: str) -> str:
    """The tube of a queue: ``prefix + queue`` where that is a valid tube name.

    beanstalkd allows ASCII letters, digits and ``-+/;.$_()`` (not a leading ``-``), up to
    200 bytes. Any other byte of the UTF-8 name, ``$`` itself and a leading ``-`` are written
    ``$XX`` (hex), which keeps names distinct; a name still too long becomes ``$$`` and the
    SHA-256 of the name (no escaped name starts with ``$$``).
    """
    name = prefix + queue
    out = []
    for index, char in enumerate(name):
        if _TUBE_SAFE.fullmatch(char) and not (index == 0 and char == "-"):
            out.append(char)
        else:
            out.extend(f"${byte:02X}" for byte in char.encode("utf-8"))
    tube = "".join(out)
    if len(tube) > MAX_TUBE_BYTES:
        tube = "$$" + hashlib.sha256(name.encode("utf-8")).hexdigest()
    return tube


def body_of(uuid: str) -> str:
    """The body of a job's tube entry: only its uuid, as JSON; the record lives in the store."""
    return json.dumps({"uuid": uuid}, separators=(",", ":"))


def uuid_of(body: str) -> str | None:
    """The uuid in an entry's body, or None for a body zerog did not write."""
    try:
        doc = json.loads(body)
    except ValueError:
        return None
    uuid = doc.get("uuid") if isinstance(doc, dict) else None
    return uuid if isinstance(uuid, str) and uuid else None
