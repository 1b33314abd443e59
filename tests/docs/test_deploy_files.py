"""contrib/'s deployment files are sane without being run: the systemd units start real
`zerog` commands with real flags and stop them as the supervisor wants; the Dockerfile
parses, on a Python zerog supports, copies files that exist and runs a real command.
(Building the image is left to whoever ships it: no daemon here.)"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

from tests.docs.markdown import ROOT
from zerog.cli import build_parser

SYSTEMD = ROOT / "contrib" / "systemd"
DOCKERFILE = ROOT / "contrib" / "Dockerfile"
UNITS = sorted(SYSTEMD.glob("*.service"))
ENV_FILE = SYSTEMD / "zerog.env"
INSTRUCTIONS = {
    "FROM", "RUN", "CMD", "LABEL", "EXPOSE", "ENV", "ADD", "COPY", "ENTRYPOINT", "VOLUME",
    "USER", "WORKDIR", "ARG", "ONBUILD", "STOPSIGNAL", "HEALTHCHECK", "SHELL",
}  # fmt: skip


def unit(path: Path) -> dict[str, dict[str, str]]:
    """A unit file's sections and keys (the last value of a repeated key)."""
    sections: dict[str, dict[str, str]] = {}
    current: dict[str, str] = {}
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            current = sections.setdefault(line.strip("[]"), {})
        else:
            key, sep, value = line.partition("=")
            assert sep, f"{path.name}: not key=value: {raw!r}"
            current[key.strip()] = value.strip()
    return sections


def env_lines(path: Path) -> dict[str, str]:
    pairs = [line.split("=", 1) for line in path.read_text().splitlines() if "=" in line]
    return {k: v for k, v in pairs if not k.startswith("#")}


def help_of_every_command() -> str:
    parser = build_parser()
    subparsers = next(a for a in parser._actions if a.choices and isinstance(a.choices, dict))
    return "".join(p.format_help() for p in subparsers.choices.values())


@pytest.mark.parametrize("path", UNITS, ids=lambda p: p.name)
def test_each_systemd_unit_runs_a_real_zerog_command_and_drains_on_stop(path: Path) -> None:
    service = unit(path)["Service"]
    # Its command is zerog's own, with arguments zerog's parser accepts
    command = shlex.split(service["ExecStart"])
    assert command[0].endswith("/bin/zerog")
    build_parser().parse_args(command[1:])
    # It stops with one SIGTERM (the supervisor's drain) and waits longer than the grace
    assert service["KillSignal"] == "SIGTERM"
    grace = float(env_lines(ENV_FILE).get("ZEROG_GRACE", "30"))
    assert float(service["TimeoutStopSec"]) > grace
    assert "EnvironmentFile" in service
    assert unit(path)["Install"]["WantedBy"] == "multi-user.target"


def test_the_worker_unit_signals_the_supervisor_alone() -> None:
    # A SIGTERM to every process would be a second SIGTERM to each child: "stop now".
    service = unit(SYSTEMD / "zerog-worker.service")["Service"]
    assert service["KillMode"] == "mixed"
    assert service["ExecReload"].endswith("-HUP $MAINPID")


def test_the_environment_file_sets_only_real_flags() -> None:
    helps = help_of_every_command()
    for key in env_lines(ENV_FILE):
        assert f"[env: {key}]" in " ".join(helps.split()), key


def test_systemd_accepts_the_units_where_it_is_installed() -> None:
    tool = shutil.which("systemd-analyze")
    if tool is None:
        pytest.skip("systemd-analyze is not installed")
    for path in UNITS:
        done = subprocess.run(
            [tool, "verify", str(path)], capture_output=True, text=True, timeout=60, check=False
        )
        # The venv of the unit is not on this machine; anything else is a mistake.
        complaints = [
            line
            for line in done.stderr.splitlines()
            if line.strip() and "is not executable: No such file or directory" not in line
        ]
        assert complaints == [], done.stderr


def dockerfile() -> list[tuple[str, str]]:
    """The Dockerfile's instructions, continuation lines joined."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    found = []
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            word, _, rest = line.strip().partition(" ")
            found.append((word.upper(), rest.strip()))
    return found


def test_the_dockerfile_parses_and_builds_zerog_from_this_repository() -> None:
    steps = dockerfile()
    assert {word for word, _ in steps} <= INSTRUCTIONS
    # On an official Python image zerog supports
    assert steps[0][0] == "FROM"
    base = re.fullmatch(r"python:(\d+)\.(\d+)-slim", steps[0][1])
    assert base is not None
    assert (int(base.group(1)), int(base.group(2))) >= (3, 11)
    # Copying files the repository has, and installing extras zerog defines
    for word, rest in steps:
        if word == "COPY":
            *sources, _ = rest.split()
            for source in sources:
                assert (ROOT / source).exists(), source
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    installs = [rest for word, rest in steps if word == "RUN" and "pip install" in rest]
    assert installs
    wanted = re.search(r"\.\[([a-z,]+)\]", installs[0])
    assert wanted is not None
    assert set(wanted.group(1).split(",")) <= set(extras)
    assert "dev" not in wanted.group(1)
    # And running a real zerog command, as a user of its own
    cmd = next(rest for word, rest in reversed(steps) if word == "CMD")
    argv = [str(a) for a in json.loads(cmd)]
    assert argv[0] == "zerog"
    build_parser().parse_args(argv[1:])
    assert any(word == "USER" and rest != "root" for word, rest in steps)
