"""Run qless-py's and deferrable's own test suites against zerog, and count what passes.

    python bench/compat/run_compat.py --qless DIR --deferrable DIR [--work DIR] [--site DIR]

``--qless`` is a directory holding qless-py's ``test/`` folder, ``--deferrable`` one holding
deferrable's ``tests/`` folder, as someone placed them there (this script fetches nothing and
the project ships neither). Each suite is copied to ``--work``, edited only as
``rename.py`` says (imports renamed, the Redis connection replaced by a zerog URL, Python 2
spellings made Python 3), and run with pytest against this tree's ``src`` on a fresh SQLite
file. ``--site`` adds a directory of the suites' own test dependencies to the path (qless-py's
tests import ``six``, its greenlet tests ``gevent``).

The tests that inspect Redis keys, pickled bytes, SQS or Dockets internals are excluded (listed
below with why) and counted apart. It prints, per suite, passed / applicable / excluded, and
each test that did not pass. It is a measurement: the exit code is 0 whatever the counts.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass, field
from pathlib import Path

import rename

HERE = Path(__file__).resolve().parent
SRC = HERE.parents[1] / "src"

QLESS_EXCLUDED_TESTS = {
    "test/test_serial.py::TestWorker::test_lost_locks": (
        "its kill() pushes to a Redis list that the test pops (rpush/brpop)"
    ),
}
DEFERRABLE_EXCLUDED_FILES = {
    "tests/debounce_test.py": "reads, writes and deletes debounce keys in Redis by their names",
    "tests/backend/dockets_test.py": "Dockets internals: Dockets queue classes over a live Redis",
    "tests/queue/dockets_test.py": "Dockets internals: make_error_queue over a live Redis",
    "tests/backend/sqs_test.py": "SQS",
    "tests/queue/sqs_test.py": "SQS",
}


@dataclass
class Suite:
    """One library's test suite: where it is, how its files are edited, what is left out."""

    name: str
    folder: str  # the tests' folder inside the given directory
    edit: object  # rename.qless_test or rename.deferrable_test
    excluded_tests: dict[str, str] = field(default_factory=dict)
    excluded_files: dict[str, str] = field(default_factory=dict)
    pytest_options: tuple[str, ...] = ()


SUITES = {
    "qless": Suite("qless-py", "test", rename.qless_test, excluded_tests=QLESS_EXCLUDED_TESTS),
    "deferrable": Suite(
        "deferrable",
        "tests",
        rename.deferrable_test,
        excluded_files=DEFERRABLE_EXCLUDED_FILES,
        # two files are called base_test.py (tests/backend, tests/queue): import by path.
        pytest_options=("--import-mode=importlib",),
    ),
}


def prepare(suite: Suite, source: Path, work: Path) -> Path:
    """Copy the suite to ``work`` with its files edited; the excluded files stay out."""
    target = work / suite.name
    shutil.rmtree(target, ignore_errors=True)
    for path in sorted((source / suite.folder).rglob("*.py")):
        relative = path.relative_to(source).as_posix()
        if relative in suite.excluded_files:
            continue
        out = target / relative
        out.parent.mkdir(parents=True, exist_ok=True)
        edit = suite.edit
        assert callable(edit)
        out.write_text(edit(path.read_text()))
    return target


def count_tests(path: Path) -> int:
    """How many tests a file defines (``def test_...``, methods and functions alike)."""
    return len(re.findall(r"^\s*def test_", path.read_text(), re.MULTILINE))


def count_excluded(suite: Suite, source: Path) -> int:
    """How many tests the exclusions leave out."""
    files = (source / relative for relative in suite.excluded_files)
    return len(suite.excluded_tests) + sum(count_tests(path) for path in files if path.exists())


def count_applicable(suite: Suite, target: Path) -> int:
    """How many tests are run: those of the edited files, less the tests deselected (a file
    that fails to import still counts all of its tests, none passed)."""
    files = (target / suite.folder).rglob("*.py")
    return sum(count_tests(path) for path in files) - len(suite.excluded_tests)


def run(suite: Suite, target: Path, work: Path, site: Path | None) -> Path:
    """Run the edited suite with pytest; returns its JUnit XML report."""
    lib = work / "lib"
    lib.mkdir(parents=True, exist_ok=True)
    shutil.copy(HERE / "store_connection.py", lib / "zerog_compat_conn.py")
    database = work / f"{suite.name}.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    ini = work / "pytest.ini"
    ini.write_text("[pytest]\n")
    report = work / f"{suite.name}.xml"
    paths = [str(SRC), str(lib), *([str(site)] if site else [])]
    env = dict(os.environ, ZEROG_URL=f"sqlite:///{database}", PYTHONPATH=os.pathsep.join(paths))
    command = [
        sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-c", str(ini),
        "--rootdir", str(target), "--junitxml", str(report), "--timeout", "300",
        "--continue-on-collection-errors",
        *suite.pytest_options, suite.folder,
        *(f"--deselect={test}" for test in suite.excluded_tests),
    ]  # fmt: skip
    subprocess.run(command, cwd=target, env=env, check=False)
    return report


def outcomes(report: Path) -> dict[str, str]:
    """Each test of a JUnit XML report and its outcome (passed, failed, error, skipped)."""
    found: dict[str, str] = {}
    for case in ElementTree.parse(report).getroot().iter("testcase"):
        name = f"{case.get('classname')}::{case.get('name')}"
        tags = {child.tag for child in case}
        outcome = "passed"
        for tag in ("failure", "error", "skipped"):
            if tag in tags:
                outcome = "failed" if tag == "failure" else tag
        found[name] = outcome
    return found


def summary(suite: Suite, results: dict[str, str], applicable: int, excluded: int) -> str:
    """The counts of one suite and the tests that did not pass."""
    passed = sum(1 for outcome in results.values() if outcome == "passed")
    share = 100.0 * passed / applicable if applicable else 0.0
    lines = [
        f"{suite.name}: {passed} passed / {applicable} applicable ({share:.1f}%), "
        f"{excluded} excluded"
    ]
    lines += [f"  {outcome}: {name}" for name, outcome in results.items() if outcome != "passed"]
    reasons = {**suite.excluded_tests, **suite.excluded_files}
    lines += [f"  excluded: {what} ({why})" for what, why in reasons.items()]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--qless", type=Path, help="directory holding qless-py's test/")
    parser.add_argument("--deferrable", type=Path, help="directory holding deferrable's tests/")
    parser.add_argument("--work", type=Path, default=Path("build/compat"), help="scratch dir")
    parser.add_argument("--site", type=Path, help="directory of the suites' test dependencies")
    args = parser.parse_args()
    work = args.work.resolve()
    reports = []
    for key, source in (("qless", args.qless), ("deferrable", args.deferrable)):
        if source is None:
            continue
        suite = SUITES[key]
        source = source.resolve()
        target = prepare(suite, source, work)
        results = outcomes(run(suite, target, work, args.site))
        counts = count_applicable(suite, target), count_excluded(suite, source)
        reports.append(summary(suite, results, *counts))
    print("\n\n".join(reports))
    return 0


if __name__ == "__main__":
    sys.exit(main())
