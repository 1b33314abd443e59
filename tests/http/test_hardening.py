"""The guards: token, Host, cross-site requests, size limits, JSON errors with no traceback,
security headers, escaping, and reads without side effects."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import pytest

from tests import disks
from tests.http.conftest import Client, Reply, Serve, memory_store, sqlite_store
from tests.http.http_jobs import QUEUE, RICH_TYPE, make_failed, put
from zerog.backends.memory import MemoryBackend
from zerog.errors import BackendUnavailable
from zerog.http import Limits
from zerog.http._context import LOOPBACK_HOSTS, ApiContext
from zerog.record import Record
from zerog.settings import Settings
from zerog.store import Store

TOKEN = "s3cret-token"
EVERY_ROUTE = [
    ("GET", "/api/jobs"),
    ("GET", "/api/jobs/some-id"),
    ("POST", f"/api/jobs/{RICH_TYPE}"),
    ("POST", "/api/jobs/some-id/cancel"),
    ("POST", "/api/jobs/some-id/messages"),
    ("GET", "/api/jobs/some-id/stream"),
    ("GET", "/api/queues"),
    ("GET", f"/api/queues/{QUEUE}"),
    ("POST", f"/api/queues/{QUEUE}/pause"),
    ("POST", f"/api/queues/{QUEUE}/kick"),
    ("GET", "/api/workers"),
    ("GET", "/api/openapi.json"),
    ("GET", "/metrics"),
    ("GET", "/dashboard/no-such-file.js"),
    ("GET", "/no/such/route"),
]
DASHBOARD_FILES = ["/", "/dashboard/app.js", "/dashboard/style.css", "/dashboard/views/job.js"]
"""Open without the token: they hold no data (the page's scripts read it with the token)."""


def raw(client: Client, data: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send raw bytes; read one response (status, headers, body)."""
    with socket.create_connection((client.host, client.port), timeout=10) as sock:
        sock.sendall(data)
        received = b""
        while b"\r\n\r\n" not in received:
            received += sock.recv(65536)
        head, _, body = received.partition(b"\r\n\r\n")
        lines = head.decode().split("\r\n")
        headers = dict(line.split(": ", 1) for line in lines[1:])
        while len(body) < int(headers.get("Content-Length", 0)):
            chunk = sock.recv(65536)
            if not chunk:
                break
            body += chunk
        return int(lines[0].split()[1]), headers, body


@pytest.mark.parametrize(("method", "path"), EVERY_ROUTE)
def test_token_guards_every_route(serve: Serve, method: str, path: str) -> None:
    api = serve(memory_store(), token=TOKEN)
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
        reply = api.request(method, path, headers=headers)
        assert reply.status == 401, (path, headers)
        assert reply.headers["WWW-Authenticate"].startswith("Bearer")
        assert "error" in reply.json()
    good = api.request(method, path, headers={"Authorization": f"Bearer {TOKEN}"})
    assert good.status != 401


def test_healthz_needs_no_token(serve: Serve) -> None:
    api = serve(memory_store(), token=TOKEN)
    reply = api.get("/healthz")
    assert (reply.status, reply.json()) == (200, {"status": "ok"})


def test_token_comparison() -> None:
    api = ApiContext(token=TOKEN)
    try:
        assert api.token_matches(TOKEN)
        assert not api.token_matches(TOKEN[:-1])
        assert not api.token_matches(TOKEN + "x")
        assert not api.token_matches("")
    finally:
        api.close()
    no_token = ApiContext(token="")  # an empty token is no token, not a token of "".
    try:
        assert no_token.token is None
    finally:
        no_token.close()


def test_unknown_host_names_are_refused(serve: Serve) -> None:
    api = serve(memory_store(), allowed_hosts=LOOPBACK_HOSTS)
    assert api.get("/api/jobs", headers={"Host": "evil.example:8080"}).status == 403
    assert api.get("/api/jobs", headers={"Host": f"localhost:{api.port}"}).status == 200
    assert api.get("/api/jobs").status == 200  # http.client sends 127.0.0.1:port


def test_cross_site_writes_are_refused_reads_are_not_shared(serve: Serve) -> None:
    store = memory_store()
    api = serve(store)
    uuid = put(store)
    evil = {"Origin": "http://evil.example"}
    assert api.post(f"/api/jobs/{uuid}/cancel", headers=evil).status == 403
    assert (
        api.post(f"/api/jobs/{uuid}/cancel", headers={"Sec-Fetch-Site": "cross-site"}).status == 403
    )
    assert store.get(uuid)["state"] == "waiting"
    same = {"Origin": f"http://127.0.0.1:{api.port}", "Sec-Fetch-Site": "same-origin"}
    assert api.post(f"/api/jobs/{uuid}/pause", headers=same).status == 200
    # A cross-site read is answered, but without CORS headers a browser keeps it from the page.
    read = api.get("/api/jobs", headers=evil)
    assert read.status == 200
    assert "Access-Control-Allow-Origin" not in read.headers


def test_options_and_other_methods_are_405_without_cors(serve: Serve) -> None:
    api = serve(memory_store())
    for method in ("OPTIONS", "DELETE", "PUT"):
        reply = api.request(method, "/api/jobs", headers={"Origin": "http://evil.example"})
        assert reply.status in (403, 405), method
        assert "Access-Control-Allow-Origin" not in reply.headers


def test_declared_oversized_body_is_413_before_it_is_read(serve: Serve) -> None:
    api = serve(memory_store(), limits=Limits(max_body_bytes=1000))
    request = (
        f"POST /api/jobs/{RICH_TYPE} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Content-Type: application/json\r\nContent-Length: 50000000\r\n\r\n"
    )
    status, headers, body = raw(api, request.encode())
    assert status == 413
    assert headers["Content-Type"].startswith("application/json")
    assert "1000 bytes" in json.loads(body)["error"]


def test_chunked_oversized_body_is_413(serve: Serve) -> None:
    store = memory_store()
    api = serve(store, limits=Limits(max_body_bytes=1000))
    chunk = b'{"title": "' + b"x" * 3000 + b'"}'
    request = (
        (
            f"POST /api/jobs/{RICH_TYPE} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        ).encode()
        + f"{len(chunk):x}\r\n".encode()
        + chunk
        + b"\r\n0\r\n\r\n"
    )
    status, _, body = raw(api, request)
    assert status == 413
    assert "error" in json.loads(body)
    assert store.counts() == {}


def test_values_over_the_store_limit_are_413(serve: Serve) -> None:
    store = Store(MemoryBackend(), Settings(url="memory://", max_values_bytes=200))
    api = serve(store)
    reply = api.post(
        f"/api/jobs/{RICH_TYPE}", {"title": "x", "note": "y" * 90, "labels": ["z" * 20] * 5}
    )
    assert reply.status == 413
    assert "limit" in reply.json()["error"]


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 5000 + b"]" * 5000,
        b'{"a": ' * 40 + b"1" + b"}" * 40,
        b'{"title": NaN}',
        b'{"title": Infinity}',
        b'{"count": 1e999}',
        b'{"count": ' + b"9" * 400 + b"}",
        b'{"title": "\\ud800"}',
        b'{"\\udfff": 1}',
        b'{"title": "\xff\xfe"}',
    ],
)
def test_hostile_json_is_400_not_500(serve: Serve, body: bytes) -> None:
    api = serve(memory_store())
    reply = api.request("POST", f"/api/jobs/{RICH_TYPE}", body=body)
    assert reply.status == 400
    assert "error" in reply.json()


def test_overlong_parameters_are_400(serve: Serve) -> None:
    api = serve(memory_store())
    long = "q" * 300
    assert api.get(f"/api/queues/{long}").status == 400
    assert api.get(f"/api/jobs/{long}").status == 400
    assert api.get(f"/api/jobs?queue={long}").status == 400
    assert api.post(f"/api/jobs/{RICH_TYPE}?tag={long}", {"title": "x"}).status == 400
    tags = "&".join(f"tag=t{n}" for n in range(40))
    assert api.post(f"/api/jobs/{RICH_TYPE}?{tags}", {"title": "x"}).status == 400


class BrokenBackend(MemoryBackend):
    """A backend that fails in a way no handler expects."""

    def get(self, uuid: str, history: bool = False) -> Record:
        raise RuntimeError("secret internal detail /etc/passwd")


def test_server_faults_are_json_without_traceback(serve: Serve) -> None:
    # Given a store that raises what no handler expects, and tornado's traceback page enabled,
    api = serve(Store(BrokenBackend(), Settings(url="memory://")), serve_traceback=True)
    # When a job is read,
    reply = api.get("/api/jobs/01a2518b-ddd7-7468-9300-ebdf1aadf55c")
    # Then the answer is a JSON 500 that tells nothing of the fault.
    assert reply.status == 500
    assert reply.json() == {"error": "internal server error"}
    assert b"secret" not in reply.body
    assert b"Traceback" not in reply.body


class DownBackend(MemoryBackend):
    """A backend whose server cannot be reached."""

    def list(self, query: Any) -> Any:
        raise BackendUnavailable("the database at db.internal:5432 is down")

    def ping(self, write: bool = False) -> None:
        raise BackendUnavailable("the database at db.internal:5432 is down")


def test_an_unreachable_store_is_503_and_not_ready_while_the_server_lives(serve: Serve) -> None:
    api = serve(Store(DownBackend(), Settings(url="memory://")))
    reply = api.get("/api/jobs")
    assert reply.status == 503
    assert reply.json() == {"error": "the job store is unavailable; try again later"}
    ready = api.get("/readyz")
    assert (ready.status, ready.json()) == (503, {"status": "unavailable"})
    health = api.get("/healthz")  # alive: restarting the server would not bring the store back.
    assert (health.status, health.json()) == (200, {"status": "ok"})


def test_security_headers(serve: Serve) -> None:
    api = serve(memory_store())
    for path in ("/api/jobs", "/api/jobs/nope", "/metrics", "/"):
        reply = api.get(path)
        assert reply.headers["X-Content-Type-Options"] == "nosniff", path
        assert "default-src 'none'" in reply.headers["Content-Security-Policy"], path
        assert reply.headers["X-Frame-Options"] == "DENY"
        assert "Server" not in reply.headers
        assert "Access-Control-Allow-Origin" not in reply.headers


@pytest.mark.parametrize("path", DASHBOARD_FILES)
def test_dashboard_files_need_no_token_and_hold_no_data(serve: Serve, path: str) -> None:
    # Given a server with a token and a job whose queue name would show if the page held data,
    store = memory_store()
    api = serve(store, token=TOKEN)
    put(store, queue="queue-name-that-must-not-show")
    # When a dashboard file is read without the token,
    reply = api.get(path)
    # Then it is served, under the page's strict policy, and holds nothing of the store.
    assert reply.status == 200
    assert reply.headers["Content-Type"].split(";")[0] in (
        "text/html",
        "text/javascript",
        "text/css",
    )
    assert "script-src 'self'" in reply.headers["Content-Security-Policy"]
    assert "queue-name-that-must-not-show" not in reply.text


@pytest.mark.parametrize(
    "path", ["/dashboard/../app.py", "/dashboard/%2e%2e/app.py", "/dashboard/x.py"]
)
def test_only_the_dashboard_files_are_served(serve: Serve, path: str) -> None:
    api = serve(memory_store())
    reply = api.get(path)
    assert reply.status == 404
    assert reply.json() == {"error": "no such route"}


def snapshot(store: Store, uuids: list[str]) -> Any:
    """Everything a read could change: each job with its history, counts, paused queues."""
    return (
        [store.get(uuid) | {"eta": None} for uuid in uuids],
        store.counts(),
        store.paused_queues(),
        store.list(limit=500).records,
    )


def test_reads_have_no_side_effects(serve: Serve) -> None:
    # Given jobs in several states,
    store = memory_store()
    api = serve(store)
    uuids = [make_failed(store), put(store), put(store, "other")]
    store.pause_queue("other")
    before = snapshot(store, uuids)
    # When every read route is called,
    reads = [
        "/api/jobs",
        "/api/jobs?state=failed",
        *[f"/api/jobs/{u}" for u in uuids],
        f"/api/jobs/{uuids[0]}/stream",
        "/api/queues",
        f"/api/queues/{QUEUE}",
        "/api/workers",
        "/api/openapi.json",
        "/metrics",
        "/healthz",
        "/",
    ]
    replies: list[Reply] = [api.get(path) for path in reads]
    # Then each answered, and the store is as it was.
    assert [r.status for r in replies] == [200] * len(reads)
    assert snapshot(store, uuids) == before


def test_a_full_disk_makes_enqueues_503_and_the_server_not_ready(
    serve: Serve, tmp_path: Path
) -> None:
    # Given a server on a SQLite store whose disk is full
    with disks.small_disk(tmp_path / "disk") as disk:
        store = sqlite_store(disk / "jobs.db")
        api = serve(store)
        assert api.get("/readyz").status == 200
        disks.fill(disk)
        # When a job is enqueued / Then the store's refusal is a 503, not a server fault
        reply = api.post(f"/api/jobs/{RICH_TYPE}", {"title": "x"})
        assert reply.status == 503, reply.body
        # And the server says it is not ready, though alive
        assert api.get("/readyz").status == 503
        assert api.get("/healthz").status == 200
        store.close()
