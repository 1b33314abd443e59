"""The zerog seed's skeleton job and handler run on zerog with only the import line changed."""

from __future__ import annotations

import ast
import asyncio
import importlib
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path

import pytest
import tornado.httpserver
import tornado.web

import zerog

SKELETON = Path(__file__).with_name("seed_zerog_skeleton.py")


@pytest.fixture
def seed_project(tmp_path, monkeypatch):
    """A user project laid out as the seed's: jobs/my_job.py, and a SQLite store."""
    (tmp_path / "jobs").mkdir()
    (tmp_path / "jobs" / "__init__.py").write_text("")
    shutil.copy(SKELETON, tmp_path / "jobs" / "my_job.py")
    url = f"sqlite:///{tmp_path / 'jobs.db'}"
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(zerog.registry, "JOB_MODULES", list(zerog.registry.JOB_MODULES))
    store = zerog.use(url)
    yield tmp_path, url
    zerog.use(None)
    store.close()
    for name in [m for m in sys.modules if m == "jobs" or m.startswith("jobs.")]:
        del sys.modules[name]


def run_worker(project: Path, url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ZEROG_URL": url}
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "zerog",
            "worker",
            "--burst",
            "--path",
            str(project),
            "--import",
            "jobs.my_job",
            "-q",
            "my_job",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_skeleton_job_runs_under_a_burst_worker_on_sqlite(seed_project):
    project, url = seed_project
    my_job = importlib.import_module("jobs.my_job")
    # Given a job made with the seed's creator function and enqueued,
    job = my_job.make_my_job(values={"fieldOne": "hello"})
    uuid = job.enqueue()
    # When `zerog worker --burst` runs,
    done = run_worker(project, url)
    assert done.returncode == 0, done.stderr
    # Then the job is complete with its info line and completeness 1.0.
    loaded = zerog.get_job(uuid)
    assert loaded.state == "complete"
    assert loaded.completeness == 1.0
    assert [e["msg"] for e in loaded.events] == ["fieldOne is hello"]
    assert loaded.fieldOne == "hello"


def test_skeleton_registers_its_module_the_seed_way(seed_project):
    importlib.import_module("jobs.my_job")
    assert "jobs.my_job" in zerog.registry.JOB_MODULES


def test_skeleton_differs_from_the_seed_only_in_imports():
    # The import lines are the only change (and the super() typo fix the issue asks for).
    tree = ast.parse(SKELETON.read_text())
    imports = [n for n in tree.body if isinstance(n, ast.Import | ast.ImportFrom)]
    assert any(a.name == "zerog" and a.asname == "zeroG" for n in imports for a in n.names)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def seed_server(seed_project):
    """The seed's MyJobHandler mounted in a real Tornado server on a free port."""
    my_job = importlib.import_module("jobs.my_job")
    port = free_port()
    loop = asyncio.new_event_loop()
    started = threading.Event()
    holder: dict[str, tornado.httpserver.HTTPServer] = {}

    def serve() -> None:
        asyncio.set_event_loop(loop)
        app = tornado.web.Application(
            [
                (r"/my_job", my_job.MyJobHandler),
                (r"/my_job/(.*)", my_job.MyJobHandler),
            ]
        )
        holder["server"] = app.listen(port, address="127.0.0.1")
        started.set()
        loop.run_forever()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    started.wait(5)
    yield f"http://127.0.0.1:{port}", seed_project
    loop.call_soon_threadsafe(holder["server"].stop)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(5)
    loop.close()


def test_seed_handler_post_enqueues_a_job_a_worker_completes(seed_server):
    base, (project, url) = seed_server
    request = urllib.request.Request(
        f"{base}/my_job", data=json.dumps({"fieldOne": "from http"}).encode(), method="POST"
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
        body = response.read().decode()
    # The seed writes "%s\n" % dict(uuid=...): a Python dict's repr.
    uuid = ast.literal_eval(body.strip())["uuid"]
    assert zerog.get_job(uuid).state == "waiting"
    assert run_worker(project, url).returncode == 0
    assert zerog.get_job(uuid).events[0]["msg"] == "fieldOne is from http"


def test_seed_handler_get_answers_200(seed_server):
    base, _ = seed_server
    with urllib.request.urlopen(f"{base}/my_job/anything", timeout=10) as response:
        assert response.status == 200
