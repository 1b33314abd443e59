"""``/api/rate-limits`` against a real server: set, list and remove a rate limit, each change
in the audit trail; a bad one is a 400 that changes nothing."""

from __future__ import annotations

import json

from tests.http.conftest import Client
from zerog.store import Store


def test_rate_limits_are_set_listed_and_removed(api: Client, store: Store) -> None:
    # When an operator sets a rate limit over HTTP,
    body = json.dumps({"maximum": 100, "per": 60})
    headers = {"Content-Type": "application/json"}
    reply = api.request("POST", "/api/rate-limits/api.example.com", body=body, headers=headers)
    assert reply.status == 200, reply.body
    listed = {"name": "api.example.com", "maximum": 100, "per": 60.0}
    assert reply.json() == {"rate_limits": [listed]}
    # Then the store holds it, the list shows it and the audit trail has it.
    assert store.rate_limits() == {"api.example.com": (100, 60.0)}
    assert api.get("/api/rate-limits").json() == {"rate_limits": [listed]}
    entry = store.audit()[0]
    assert (entry["action"], entry["target"], entry["detail"]) == (
        "rate-limit",
        "api.example.com",
        "100 per 60s",
    )
    # A bad one is refused and changes nothing; a DELETE removes it.
    bad = json.dumps({"maximum": -1})
    assert api.request("POST", "/api/rate-limits/x", body=bad, headers=headers).status == 400
    assert api.request("DELETE", "/api/rate-limits/api.example.com").json() == {"rate_limits": []}
    assert store.rate_limits() == {}
