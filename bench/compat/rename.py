"""The only edits made to qless-py's and deferrable's own tests before they run on zerog.

Three kinds, each a list of (pattern, replacement) applied line by line:

- the imports renamed: ``qless`` is ``zerog.qless``, ``deferrable`` is ``zerog.deferrable``
  (module paths in strings too: ``mock.patch('qless.job.os.stat')``, ``'<qless.job.Job jid>'``);
  the ``mock`` backport is ``unittest.mock``; qless-py's ``_compat.next`` is the builtin;
- the Redis connection replaced by a zerog URL (``ZEROG_URL``, see ``store_connection.py``):
  ``redis.Redis()`` / ``StrictRedis(...)`` become a connection to that store, and a Dockets
  backend factory over that connection becomes ``ZerogBackendFactory`` over the URL;
- Python 2 spellings that Python 3 cannot parse or run, changed mechanically (``print x``,
  ``xrange``, ``gen.next()``, ``dict.itervalues()``, ``assertItemsEqual``).

deferrable's ``queue/base_test.py`` also loses the SQS queue from its list of queues under test
(the issue excludes SQS); its lines are cut by :func:`drop_sqs`.
"""

from __future__ import annotations

import re

Rule = tuple[str, str]

QLESS_IMPORTS: list[Rule] = [
    (r"^(\s*)import qless\s*$", r"\1from zerog import qless"),
    (r"^(\s*)from qless\._compat import next\s*$", r"\1from builtins import next"),
    (r"^(\s*)from qless((?:\.\w+)*) import ", r"\1from zerog.qless\2 import "),
    (r"""(['"]<?)qless\.""", r"\1zerog.qless."),
]

DEFERRABLE_IMPORTS: list[Rule] = [
    (r"^(\s*)from redis import StrictRedis\s*$", r"\1from zerog_compat_conn import ZEROG_URL"),
    (
        r"^(\s*)from deferrable\.backend\.dockets import DocketsBackendFactory\s*$",
        r"\1from zerog.deferrable.backend import ZerogBackendFactory",
    ),
    (r"^(\s*)import deferrable\s*$", r"\1from zerog import deferrable"),
    (r"^(\s*)from deferrable((?:\.\w+)*) import ", r"\1from zerog.deferrable\2 import "),
]

COMMON_IMPORTS: list[Rule] = [
    (r"^(\s*)import mock\s*$", r"\1from unittest import mock"),
    (r"^(\s*)from mock import ", r"\1from unittest.mock import "),
    (r"^(\s*)import redis\s*$", r"\1from zerog_compat_conn import StoreConnection"),
]

CONNECTION: list[Rule] = [
    (r"\bredis\.Redis\([^)]*\)", "StoreConnection()"),
    (r"\bStrictRedis\((?:[^()]|\([^()]*\))*\)", "ZEROG_URL"),
    (r"\bDocketsBackendFactory\((\w+)[^)]*\)", r"ZerogBackendFactory(\1)"),
]

PYTHON3: list[Rule] = [
    (r"^(\s*)print (?!\()(.+)$", r"\1print(\2)"),
    (r"\bxrange\(", "range("),
    (r"\b([\w.]+(?:\(\))?)\.next\(\)", r"next(\1)"),
    (r"\.itervalues\(\)", ".values()"),
    (r"\bassertItemsEqual\(", "assertCountEqual("),
]

SQS_IMPORTS = ("from moto import", "from boto.", "from deferrable.backend.sqs import")


def apply(text: str, rules: list[Rule]) -> str:
    """Every rule on every line, in order."""
    lines = text.split("\n")
    for pattern, replacement in rules:
        compiled = re.compile(pattern)
        lines = [compiled.sub(replacement, line) for line in lines]
    return "\n".join(lines)


def drop_sqs(text: str) -> str:
    """Cut the SQS imports and the SQS block of ``all_queues`` (from ``fake_sqs = mock_sqs()``
    to ``fake_sqs.stop()``)."""
    kept: list[str] = []
    skipping = False
    for line in text.split("\n"):
        stripped = line.strip()
        if stripped.startswith(SQS_IMPORTS):
            continue
        if stripped.startswith("fake_sqs = mock_sqs()"):
            skipping = True
        if not skipping:
            kept.append(line)
        if stripped.startswith("fake_sqs.stop()"):
            skipping = False
    return "\n".join(kept)


def qless_test(text: str) -> str:
    """A qless-py test file, ready for zerog."""
    return apply(text, [*QLESS_IMPORTS, *COMMON_IMPORTS, *CONNECTION, *PYTHON3])


def deferrable_test(text: str) -> str:
    """A deferrable test file, ready for zerog."""
    text = drop_sqs(text)
    return apply(text, [*DEFERRABLE_IMPORTS, *COMMON_IMPORTS, *CONNECTION, *PYTHON3])
