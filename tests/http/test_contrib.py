"""contrib/: the Grafana dashboard and the Prometheus alert rules are valid, and name only
metrics that a real server exports.

The rules are checked by Debian's ``promtool`` (package ``prometheus``: ``make deps``
installs it): ``check rules`` for their syntax, ``test rules`` for their behaviour on made-up
series. The dashboard's queries are checked by the same parser, written as recording rules.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.http.conftest import Serve, memory_store
from tests.http.http_jobs import make_failed, make_running, put
from tests.http.test_metrics import samples

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "contrib" / "prometheus" / "zerog-alerts.yml"
RULE_TESTS = ROOT / "contrib" / "prometheus" / "zerog-alerts.test.yml"
DASHBOARD = ROOT / "contrib" / "grafana" / "zerog-dashboard.json"
METRIC = re.compile(r"\bzerog_[a-z_]+")


def promtool(*args: str) -> str:
    """Run promtool; fails (never skips) when it is missing."""
    tool = shutil.which("promtool")
    if tool is None:
        pytest.fail("promtool is missing: run `make deps` (installs Debian's prometheus)")
    done = subprocess.run([tool, *args], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def dashboard() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(DASHBOARD.read_text())
    return loaded


def panel_queries() -> list[str]:
    return [t["expr"] for p in dashboard()["panels"] for t in p["targets"]]


def test_the_alert_rules_are_valid_and_fire_as_meant() -> None:
    assert "SUCCESS: 5 rules found" in promtool("check", "rules", str(RULES))
    assert "SUCCESS" in promtool("test", "rules", str(RULE_TESTS))


def test_the_dashboard_is_grafana_json_with_valid_queries(tmp_path: Path) -> None:
    # Given the dashboard as Grafana imports it,
    doc = dashboard()
    panels = doc["panels"]
    # Then its panels have distinct ids, a place on the grid and queries,
    assert doc["uid"]
    assert doc["title"]
    assert doc["schemaVersion"] >= 36
    assert len({p["id"] for p in panels}) == len(panels) >= 10
    for p in panels:
        assert {"x", "y", "w", "h"} <= set(p["gridPos"]), p["title"]
        assert p["targets"], p["title"]
        assert p["datasource"]["uid"] == "${DS_PROMETHEUS}", p["title"]
    # and every query parses as PromQL (promtool reads them as recording rules).
    rules = [
        {"record": f"zerog:panel_{i}", "expr": q.replace("$queue", ".*")}
        for i, q in enumerate(panel_queries())
    ]
    path = tmp_path / "panels.yml"
    path.write_text(json.dumps({"groups": [{"name": "panels", "rules": rules}]}))
    assert f"SUCCESS: {len(rules)} rules found" in promtool("check", "rules", str(path))


def test_contrib_names_only_metrics_the_server_exports(serve: Serve) -> None:
    # Given a server over a store with jobs in every kind of state,
    store = memory_store()
    api = serve(store)
    put(store, "q")
    make_failed(store)
    make_running(store)
    api.get("/healthz")
    # When its metrics are scraped,
    exported = {name for name, _labels in samples(api.get("/metrics").text)}
    # Then every metric the dashboard and the rules use is among them.
    used = set(METRIC.findall(RULES.read_text())) | {
        name for q in panel_queries() for name in METRIC.findall(q)
    }
    assert used, "no metric found in contrib/"
    assert sorted(used - exported) == []
