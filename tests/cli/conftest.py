"""Fixtures for the command line: the real ``zerog`` in a subprocess, a real SQLite file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

Zerog = Callable[..., subprocess.CompletedProcess[str]]


def clean_env(**extra: str) -> dict[str, str]:
    """The test process's environment without any ZEROG_* a developer's shell may have set.

    Tables are as wide as ``COLUMNS`` says (200 unless a test asks for another): without it,
    rich measures the terminal the test runner was started from, or takes 80 columns when
    there is none (a CI runner, a pytest-xdist process), and cuts the cells tests look for.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZEROG_")}
    env["COLUMNS"] = "200"
    env.update(extra)
    return env


def command(*args: str) -> list[str]:
    """``python -m zerog ARGS`` with this interpreter."""
    return [sys.executable, "-m", "zerog", *args]


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    """A fresh SQLite file per test."""
    return f"sqlite:///{tmp_path / 'jobs.db'}"


@pytest.fixture
def zerog(tmp_path: Path) -> Zerog:
    """Run ``zerog ARGS`` to completion in ``tmp_path``; returns the CompletedProcess."""

    def run(
        *args: str, env: dict[str, str] | None = None, timeout: float = 60, stdin: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            command(*args),
            capture_output=True,
            text=True,
            timeout=timeout,
            env=clean_env(**(env or {})),
            cwd=tmp_path,
            input=stdin,
        )

    return run


@pytest.fixture
def enqueue_example(zerog: Zerog, db_url: str) -> Zerog:
    """``zerog enqueue TYPE --data DATA`` on the test's database, with zerog.examples."""

    def run(
        job_type: str, data: str, *extra: str, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        return zerog(
            "enqueue", job_type, "--url", db_url, "--import", "zerog.examples", "--data", data,
            *extra, env=env,
        )  # fmt: skip

    return run


@pytest.fixture
def read_job(zerog: Zerog, db_url: str) -> Callable[[str], dict[str, Any]]:
    """A job's record as ``zerog job UUID --json`` prints it."""

    def read(uuid: str) -> dict[str, Any]:
        done = zerog("job", uuid, "--url", db_url, "--json")
        assert done.returncode == 0, done.stderr
        record: dict[str, Any] = json.loads(done.stdout)
        return record

    return read


def list_jobs(zerog: Zerog, db_url: str) -> list[dict[str, Any]]:
    """Every job, as ``zerog jobs --json`` lists them (none when no store was ever made
    there: the command says so rather than create one)."""
    done = zerog("jobs", "--url", db_url, "--json")
    if done.returncode == 2 and "no store at" in done.stderr:
        return []
    assert done.returncode == 0, done.stderr
    jobs: list[dict[str, Any]] = json.loads(done.stdout)["jobs"]
    return jobs


def one_line_error(stderr: str) -> str:
    """The single error line the CLI promises (no traceback)."""
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    assert lines[0].startswith("zerog: error: ")
    return lines[0]
