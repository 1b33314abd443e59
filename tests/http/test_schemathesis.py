"""schemathesis against the live OpenAPI document of a real ``zerog serve``: every check, in
every phase (coverage, fuzzing, stateful); 0 server errors and 0 schema violations.

The server runs in its own process so that its document holds exactly the job types it was
given (``--import``), whatever other tests registered in this one. The token is set, so the
run also checks that no route but /healthz answers without it.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.http.test_serve_cli import clean_env, free_port, wait_until_up

ROOT = Path(__file__).resolve().parents[2]
CONFIG = Path(__file__).with_name("schemathesis.toml")
TOKEN = "schemathesis-token"
MAX_EXAMPLES = 20  # per operation and phase: about 30 s in all on this machine.
SEED = 1  # fixed, so that a failure in CI reproduces; run `st run` by hand for new seeds.


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_the_api_conforms_to_its_own_document(tmp_path: Path) -> None:
    # Given `zerog serve` on a SQLite file with the example and test job types,
    port = free_port()
    log_path = tmp_path / "server.log"  # a file, not a pipe: a full pipe would block the server.
    log_file = log_path.open("w")
    server = subprocess.Popen(
        [
            *(sys.executable, "-m", "zerog", "serve", "--url", f"sqlite:///{tmp_path / 'st.db'}"),
            *("--port", str(port), "--path", str(ROOT)),
            *("--import", "zerog.examples", "--import", "tests.http.http_jobs"),
        ],
        env=clean_env(ZEROG_TOKEN=TOKEN),
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=log_file,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url, server)
        # When schemathesis tests every operation of the document it serves,
        done = subprocess.run(
            [
                *(sys.executable, "-m", "schemathesis.cli", "--config-file", str(CONFIG), "run"),
                *(f"{url}/api/openapi.json", "--max-examples", str(MAX_EXAMPLES)),
                *("--seed", str(SEED), "--workers", "1", "--no-color"),
                *("-H", f"Authorization: Bearer {TOKEN}"),
            ],
            env=clean_env(),
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=240,
            check=False,
        )
    finally:
        server.terminate()
        server.wait(timeout=30)
        log_file.close()
    log = log_path.read_text()
    # Then it finds nothing, and the server logged no error.
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    assert "Tested: 22" in done.stdout or re.search(r"Tested:\s+\d+", done.stdout)
    # 501 is an answer (the backend cannot do that), not a server fault.
    fault = re.search(r"\b5(?!01)\d\d (GET|POST|PUT|DELETE|PATCH|OPTIONS|HEAD)\b", log)
    assert not fault, log[-4000:]
    assert "Traceback" not in log, log[-4000:]
