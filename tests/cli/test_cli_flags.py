"""Flags and their environment variables: command line > ZEROG_* > default."""

from __future__ import annotations

import argparse

import pytest

from zerog.cli import build_parser, main
from zerog.cli._flags import add_flag, apply_env, env_name, positive_int
from zerog.errors import ConfigurationError


def parse(argv: list[str], environ: dict[str, str]) -> argparse.Namespace:
    args = build_parser().parse_args(argv)
    apply_env(args, environ)
    return args


def test_environment_fills_what_the_command_line_left_unset() -> None:
    environ = {
        "ZEROG_URL": "memory://",
        "ZEROG_THREADS": "4",
        "ZEROG_QUEUE": "a, b,,c",
        "ZEROG_BURST": "yes",
        "ZEROG_GRACE": "2.5",
    }

    args = parse(["worker"], environ)

    assert args.url == "memory://"
    assert args.threads == 4
    assert args.queues == ["a", "b", "c"]
    assert args.burst is True
    assert args.grace == 2.5


def test_command_line_wins_over_environment() -> None:
    environ = {"ZEROG_URL": "memory://", "ZEROG_THREADS": "4", "ZEROG_QUEUE": "a"}

    args = parse(["worker", "--url", "sqlite:///x.db", "--threads", "2", "-q", "z"], environ)

    assert (args.url, args.threads, args.queues) == ("sqlite:///x.db", 2, ["z"])


def test_defaults_when_neither_is_set() -> None:
    args = parse(["worker"], {})

    assert args.url == "sqlite:///zerog.db"
    assert args.threads == 1
    assert args.queues is None  # the worker then takes the registered classes' queues.
    assert args.burst is None
    assert args.paths == ["."]


def test_listing_filters_do_not_read_the_workers_variables() -> None:
    # A shell set up for workers (ZEROG_QUEUE=a,b) must not filter `zerog jobs`.
    args = parse(["jobs"], {"ZEROG_QUEUE": "a,b", "ZEROG_JOBS_STATE": "failed"})

    assert args.queue is None
    assert args.state == "failed"


@pytest.mark.parametrize(
    ("variable", "value"), [("ZEROG_THREADS", "0"), ("ZEROG_BURST", "maybe"), ("ZEROG_GRACE", "-1")]
)
def test_a_bad_value_names_its_variable(variable: str, value: str) -> None:
    with pytest.raises(ConfigurationError, match=variable):
        parse(["worker"], {variable: value})


def test_env_names() -> None:
    assert env_name("--max-retries") == "ZEROG_MAX_RETRIES"
    assert env_name("--url") == "ZEROG_URL"


def test_add_flag_records_its_variable_in_the_help() -> None:
    parser = argparse.ArgumentParser()
    add_flag(parser, "--count", kind=positive_int, default=3, help="how many")

    text = parser.format_help()

    assert "(default: 3) [env: ZEROG_COUNT]" in " ".join(text.split())


def test_main_returns_2_for_a_bad_variable(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["jobs", "--url", "memory://"], environ={"ZEROG_JOBS_LIMIT": "lots"})

    assert code == 2
    assert "ZEROG_JOBS_LIMIT" in capsys.readouterr().err


def test_main_in_process_on_memory(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["jobs", "--url", "memory://", "--json"], environ={})

    assert code == 0
    assert '"jobs": []' in capsys.readouterr().out
