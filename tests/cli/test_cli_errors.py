"""What the CLI says when it cannot do what it was asked: one line, the right exit code,
nothing stored."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.conftest import Zerog, list_jobs, one_line_error
from zerog.cli import EXIT_FAILURE, EXIT_USAGE
from zerog.settings import MAX_VALUES_BYTES
from zerog.store import Store


@pytest.mark.parametrize(
    "command", [["jobs"], ["worker", "--burst"], ["queues"], ["enqueue", "my_job_type"]]
)
def test_unknown_url_scheme_is_a_usage_error_naming_the_scheme(
    zerog: Zerog, command: list[str]
) -> None:
    # When a command is given a URL with a scheme zerog does not know
    done = zerog(*command, "--url", "nosuchdb://host/x")

    # Then it exits 2 with one line that names the scheme
    assert done.returncode == EXIT_USAGE
    assert "'nosuchdb'" in one_line_error(done.stderr)


def test_unknown_scheme_from_the_environment(zerog: Zerog) -> None:
    # When the URL comes from ZEROG_URL
    done = zerog("jobs", env={"ZEROG_URL": "nosuchdb://x"})

    # Then the same one-line usage error
    assert done.returncode == EXIT_USAGE
    assert "nosuchdb" in one_line_error(done.stderr)


def test_password_in_a_url_is_never_printed(zerog: Zerog) -> None:
    # When a URL with a password cannot be used (a bad option: refused before connecting, so
    # no server is contacted; never the shared Redis on 6379)
    done = zerog("jobs", "--url", "redis://user:s3cret@127.0.0.1:1/0?prefix=a{b}")

    # Then the error says why, the password masked
    assert done.returncode == EXIT_USAGE
    line = one_line_error(done.stderr)
    assert "s3cret" not in line + done.stdout


def test_bad_environment_value_names_its_variable(zerog: Zerog, db_url: str) -> None:
    # When ZEROG_THREADS is not a number
    done = zerog("worker", "--burst", "--url", db_url, env={"ZEROG_THREADS": "many"})

    # Then exit 2 and the variable is named
    assert done.returncode == EXIT_USAGE
    assert "ZEROG_THREADS" in one_line_error(done.stderr)


def test_invalid_values_name_each_field_and_store_nothing(
    zerog: Zerog, db_url: str, enqueue_example: Zerog
) -> None:
    # When an example report is enqueued without its title and with a bad step count
    done = enqueue_example("example_report", json.dumps({"steps": 0}))

    # Then exit 1, each field's message on the one line, and no job was stored
    assert done.returncode == EXIT_FAILURE
    line = one_line_error(done.stderr)
    assert "title: Missing data for required field." in line
    assert "steps:" in line
    assert done.stdout == ""
    assert list_jobs(zerog, db_url) == []


def test_unknown_type_names_the_registered_types(zerog: Zerog, db_url: str) -> None:
    # When a type no job class has is enqueued
    done = zerog("enqueue", "no_such_type", "--url", db_url, "--import", "zerog.examples")

    # Then exit 1, and the message lists the types that are registered
    assert done.returncode == EXIT_FAILURE
    line = one_line_error(done.stderr)
    assert "'no_such_type'" in line
    for known in ("example_report", "example_crawl", "example_flaky", "my_job_type"):
        assert known in line
    assert list_jobs(zerog, db_url) == []


def test_oversize_values_are_refused_in_one_line(
    zerog: Zerog, db_url: str, tmp_path: Path, enqueue_example: Zerog
) -> None:
    # Given values over the 1 MiB limit in a file (too long for a command-line argument)
    data = tmp_path / "big.json"
    data.write_text(json.dumps({"fieldOne": "x" * (MAX_VALUES_BYTES + 10)}))

    # When they are enqueued
    done = enqueue_example("my_job_type", f"@{data}")

    # Then exit 1 with the size and the limit, and nothing stored
    assert done.returncode == EXIT_FAILURE
    line = one_line_error(done.stderr)
    assert f"over the limit of {MAX_VALUES_BYTES} bytes" in line
    assert list_jobs(zerog, db_url) == []


def test_the_limit_follows_the_settings(zerog: Zerog, db_url: str, enqueue_example: Zerog) -> None:
    # Given a store whose limit is 100 bytes
    env = {"ZEROG_MAX_VALUES_BYTES": "100"}

    # When 200 bytes of values are enqueued inline
    done = enqueue_example("my_job_type", json.dumps({"fieldOne": "y" * 200}), env=env)

    # Then it is refused
    assert done.returncode == EXIT_FAILURE
    assert "over the limit of 100 bytes" in one_line_error(done.stderr)


def test_malformed_json_is_a_usage_error(zerog: Zerog, db_url: str, enqueue_example: Zerog) -> None:
    done = enqueue_example("my_job_type", "{not json")

    assert done.returncode == EXIT_USAGE
    assert "not valid JSON" in one_line_error(done.stderr)


def test_missing_job_module_is_a_usage_error(zerog: Zerog, db_url: str) -> None:
    done = zerog("worker", "--burst", "--url", db_url, "--import", "no_such_module_here")

    assert done.returncode == EXIT_USAGE
    assert "no_such_module_here" in one_line_error(done.stderr)


def test_unknown_job_id(zerog: Zerog, db_url: str) -> None:
    Store.from_url(db_url).close()  # a store, without that job.
    done = zerog("job", "00000000-0000-0000-0000-000000000000", "--url", db_url)

    assert done.returncode == EXIT_FAILURE
    assert "no job with id" in one_line_error(done.stderr)


def test_no_command_is_a_usage_error(zerog: Zerog) -> None:
    done = zerog()

    assert done.returncode == EXIT_USAGE
    assert "usage: zerog" in done.stderr
