"""The project's own tools: `make deps` gives the tests a PostgreSQL server on a fresh machine."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "tools" / "test-postgres.sh"


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A directory the postgres user may enter (pytest's own are root's alone)."""
    where = Path(tempfile.mkdtemp(prefix="zerog-pg-"))
    where.chmod(0o755)
    try:
        yield where
    finally:
        shutil.rmtree(where, ignore_errors=True)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.slow
def test_without_a_reachable_server_a_cluster_of_the_tests_own_is_started(
    shared_dir: Path,
) -> None:
    # Given no server on the port the tests are told to use
    port = _free_port()
    data, url_file = shared_dir / "pgdata", shared_dir / "url"
    env = {
        **{k: v for k, v in os.environ.items() if k != "ZEROG_TEST_POSTGRES"},
        "ZEROG_TEST_POSTGRES_PORT": str(port),
        "ZEROG_TEST_POSTGRES_DATA": str(data),
        "ZEROG_TEST_POSTGRES_URL_FILE": str(url_file),
    }
    # When the script runs / Then a server of the tests' own answers there, with a test db
    done = subprocess.run(["bash", str(SCRIPT)], env=env, capture_output=True, text=True)
    try:
        assert done.returncode == 0, done.stderr
        url = url_file.read_text().strip()
        assert url == f"postgresql://postgres@127.0.0.1:{port}/test"
        with psycopg.connect(url, connect_timeout=10) as conn:
            assert conn.execute("select 1").fetchone() == (1,)
        # And run again, it finds it and starts nothing
        again = subprocess.run(["bash", str(SCRIPT)], env=env, capture_output=True, text=True)
        assert again.returncode == 0
        assert url_file.read_text().strip() == url
    finally:
        bin_dir = next(Path("/usr/lib/postgresql").glob("*/bin"))
        stop = f"'{bin_dir}/pg_ctl' -D '{data}' -m immediate stop"
        subprocess.run(["su", "postgres", "-s", "/bin/sh", "-c", stop], check=False)
