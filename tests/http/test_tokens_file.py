"""``zerog serve --tokens-file``: named tokens from a file only its owner may read; each
names its holder in the audit trail."""

from __future__ import annotations

import subprocess
import sys
import urllib.error
from contextlib import closing
from pathlib import Path

import pytest

from tests.http.test_serve_cli import call, clean_env, free_port, wait_until_up
from zerog.cli.tokens import read_tokens_file
from zerog.errors import ConfigurationError
from zerog.record import JobSpec
from zerog.store import open_store

FILE = """\
# the operators
alice=s3cret-a

  bob=s3cret-b
"""


def _file(tmp_path: Path, text: str = FILE, mode: int = 0o600) -> Path:
    path = tmp_path / "tokens"
    path.write_text(text)
    path.chmod(mode)
    return path


def test_lines_are_named_tokens_comments_and_blanks_skipped(tmp_path: Path) -> None:
    assert read_tokens_file(str(_file(tmp_path))) == ["alice=s3cret-a", "bob=s3cret-b"]


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o620, 0o666])
def test_a_file_others_may_read_or_write_is_refused(tmp_path: Path, mode: int) -> None:
    with pytest.raises(ConfigurationError, match="chmod 600"):
        read_tokens_file(str(_file(tmp_path, mode=mode)))


def test_a_malformed_line_is_refused_by_number_not_content(tmp_path: Path) -> None:
    path = _file(tmp_path, "alice=ok\njust-a-secret-no-name\n")
    with pytest.raises(ConfigurationError, match="line 2") as caught:
        read_tokens_file(str(path))
    assert "just-a-secret" not in str(caught.value)
    with pytest.raises(ConfigurationError, match="names no token"):
        read_tokens_file(str(_file(tmp_path, "# nobody\n")))
    with pytest.raises(ConfigurationError, match="cannot read"):
        read_tokens_file(str(tmp_path / "missing"))


def test_serve_takes_its_tokens_from_the_file_and_audits_their_names(tmp_path: Path) -> None:
    # Given a job, and the server started with a tokens file
    url = f"sqlite:///{tmp_path / 'j.db'}"
    with closing(open_store(url)) as store:
        uuid = store.enqueue(JobSpec(type="t", queue="q"))
    port = free_port()
    command = [sys.executable, "-m", "zerog", "serve", "--url", url, "--port", str(port)]
    command += ["--tokens-file", str(_file(tmp_path))]
    with (tmp_path / "server.log").open("w") as log:
        process = subprocess.Popen(command, env=clean_env(), cwd=tmp_path, stdout=log, stderr=log)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base, process)
        # When bob pauses the job with his secret; nobody gets in without one
        with pytest.raises(urllib.error.HTTPError) as refused:
            call(f"{base}/api/jobs", token=None)
        assert refused.value.code == 401
        refused.value.close()
        call(f"{base}/api/jobs/{uuid}/pause", "POST", token="s3cret-b")
        # Then the trail names bob
        entries = call(f"{base}/api/audit", token="s3cret-a")["entries"]
        assert [(e["actor"], e["action"], e["target"]) for e in entries] == [("bob", "pause", uuid)]
    finally:
        process.terminate()
        process.wait(timeout=30)
