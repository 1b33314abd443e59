"""The results: medians per cell, a table per store, zerog's ratios to the best peer on the
same store, and the files under bench/results/ (timestamped JSON and Markdown, and latest.md).
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import time
from importlib import metadata
from pathlib import Path
from typing import Any

from servers import Servers
from systems import BY_NAME

PACKAGES = (
    "zerog",
    "rq",
    "dramatiq",
    "huey",
    "celery",
    "kombu",
    "redis",
    "arq",
    "procrastinate",
    "pgqueuer",
    "asyncpg",
    "psycopg",
    "greenstalk",
    "psutil",
)
STORES = (
    ("redis", "Redis"),
    ("postgresql", "PostgreSQL"),
    ("sqlite", "SQLite"),
    ("beanstalkd", "beanstalkd"),
)
# column: (header, metric(s), format, True when higher is better)
COLUMNS = (
    ("W1 one/s", ("w1_one",), "{:,.0f}", True),
    ("W1 bulk/s", ("w1_bulk",), "{:,.0f}", True),
    ("W2 jobs/s", ("w2_rate",), "{:,.0f}", True),
    ("W2 µs CPU/job (store)", ("w2_cpu_us", "w2_store_us"), "{:,.0f} ({:,.0f})", False),
    ("W3 p50/p99 ms", ("w3_p50", "w3_p99"), "{:.1f} / {:.1f}", False),
    ("W4 s (x ideal)", ("w4_makespan", "w4_ratio"), "{:.2f} ({:.2f})", False),
    ("W5 % core store/workers", ("w5_store_pct", "w5_workers_pct"), "{:.1f} / {:.1f}", False),
)
WORKLOAD_OF = {"w1": "W1", "w2": "W2", "w3": "W3", "w4": "W4", "w5": "W5"}


def meta(args: argparse.Namespace, servers: Servers, started: float) -> dict[str, Any]:
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "-"
    return {
        "started": time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(started)),
        "minutes": round((time.time() - started) / 60, 1),
        "machine": f"{platform.node()}, {platform.machine()}, {_cores()} cores",
        "python": platform.python_version(),
        "servers": {
            "redis": _version(["redis-server", "--version"]),
            "beanstalkd": _version(["beanstalkd", "-v"]),
            "postgresql": f"{servers.pg.version // 10000}.{servers.pg.version % 10000}",
        },
        "packages": versions,
        "args": {k: str(v) for k, v in vars(args).items()},
    }


def _cores() -> int:
    import os

    return os.cpu_count() or 0


def _version(argv: list[str]) -> str:
    try:
        return subprocess.run(argv, capture_output=True, text=True, check=False).stdout.strip()
    except OSError:
        return "-"


def medians(cell: dict[str, Any]) -> dict[str, float]:
    runs = cell.get("runs", [])
    keys = {k for run in runs for k in run["metrics"]}
    return {k: statistics.median(r["metrics"][k] for r in runs if k in r["metrics"]) for k in keys}


def value(cells: dict[str, Any], system: str, metrics: tuple[str, ...]) -> float | None:
    workload = WORKLOAD_OF[metrics[0][:2]]
    cell = cells.get(system, {}).get(workload, {})
    return medians(cell).get(metrics[0]) if cell else None


def shown(cells: dict[str, Any], system: str, metrics: tuple[str, ...], fmt: str) -> str:
    cell = cells.get(system, {}).get(WORKLOAD_OF[metrics[0][:2]])
    if cell is None:
        return "-"
    found = medians(cell)
    if metrics[0] == "w5_store_pct" and BY_NAME[system].store == "sqlite":
        fmt = "in workers / {1:.1f}"  # no server: the SQLite store is the workers themselves.
    if all(m in found for m in metrics):
        flag = "*" if any(r["disturbed"] for r in cell["runs"]) else ""
        return fmt.format(*(found[m] for m in metrics)) + flag
    if "na" in cell:
        return "n/a"
    if cell.get("errors"):
        return "failed"
    return "n/a"


def ratio_rows(cells: dict[str, Any], store: str) -> list[list[str]]:
    """zerog on the store over the best peer there, per column."""
    systems = [n for n in cells if BY_NAME[n].store == store]
    rows = []
    for mine in (n for n in systems if n.startswith("zerog")):
        row = [f"{mine} / best peer"]
        for _, metrics, _, higher in COLUMNS:
            ours = value(cells, mine, metrics)
            theirs = [
                (v, n)
                for n in systems
                if not n.startswith("zerog")
                if (v := value(cells, n, metrics)) is not None
            ]
            if ours is None or not theirs or (best := (max if higher else min)(theirs))[0] == 0:
                row.append("-")
            else:
                row.append(f"{ours / best[0]:.2f} ({best[1]})")
        rows.append(row)
    return rows


def tables(cells: dict[str, Any]) -> list[tuple[str, list[list[str]]]]:
    out = []
    for store, title in STORES:
        systems = [n for n in cells if BY_NAME[n].store == store]
        if not systems:
            continue
        rows = [["system", *(c[0] for c in COLUMNS)]]
        rows += [[n, *(shown(cells, n, m, f) for _, m, f, _ in COLUMNS)] for n in systems]
        rows += ratio_rows(cells, store)
        out.append((title, rows))
    return out


def notes(cells: dict[str, Any]) -> list[str]:
    lines = []
    for system, workloads in cells.items():
        for workload, cell in workloads.items():
            loads = [
                f"{r['other_cores']:.2f}"
                + ("!" if r["disturbed"] else "")
                + (f" ({r['tries']} tries)" if r["tries"] > 1 else "")
                for r in cell["runs"]
            ]
            extra = [n for r in cell["runs"] for n in r["notes"]]
            if loads:
                lines.append(
                    f"{system} {workload}: other load per run {', '.join(loads)} cores"
                    + (f"; {'; '.join(sorted(set(extra)))}" if extra else "")
                )
            if "na" in cell:
                lines.append(f"{system} {workload}: n/a: {cell['na']}")
            for error in cell.get("errors", []):
                lines.append(f"{system} {workload}: failed: {error}")
    return lines


def text(cells: dict[str, Any], info: dict[str, Any]) -> str:
    parts = [f"\nzerog beside its peers, {info['started']}, {info['machine']}"]
    for title, rows in tables(cells):
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        parts.append(f"\n{title}")
        parts += [
            "  " + "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows
        ]
    parts.append(
        "\n* a run stayed disturbed. Ratios: zerog / the best peer on the store "
        "(rates: > 1 is zerog faster; CPU, latency, makespan: < 1 is zerog better)."
    )
    return "\n".join(parts)


def markdown(cells: dict[str, Any], info: dict[str, Any]) -> str:
    out = [
        f"# zerog beside its peers ({info['started']})",
        "",
        f"{info['machine']}; Python {info['python']}; servers {info['servers']}; "
        f"{info['minutes']} min; arguments {info['args']}",
        "",
        "Medians of the runs. `*`: a run of the cell stayed disturbed (other processes' "
        "load above the threshold after its retries). Ratio rows: zerog / the best peer "
        "on the same store (rates: > 1 means zerog is faster; CPU, latency and makespan: "
        "< 1 means zerog is better). See bench/peers/README.md.",
        "",
    ]
    for title, rows in tables(cells):
        out += [f"## {title}", "", "| " + " | ".join(rows[0]) + " |", "|" + "---|" * len(rows[0])]
        out += ["| " + " | ".join(r) + " |" for r in rows[1:]]
        out.append("")
    out += ["## Worker commands", ""]
    out += [f"- {n}: `{BY_NAME[n].flags}`" for n in cells]
    out += ["", "## Runs: other load, n/a cells, failures", ""]
    out += [f"- {line}" for line in notes(cells)]
    out += ["", "## Versions", "", ", ".join(f"{k} {v}" for k, v in info["packages"].items()), ""]
    return "\n".join(out)


def write(cells: dict[str, Any], info: dict[str, Any], out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    stamp = info["started"].replace(" ", "T").replace(":", "")
    as_json = out / f"peers-{stamp}.json"
    as_json.write_text(json.dumps({"meta": info, "cells": cells}, indent=1) + "\n")
    page = markdown(cells, info)
    as_md = out / f"peers-{stamp}.md"
    as_md.write_text(page)
    (out / "latest.md").write_text(page)
    return [as_json, as_md, out / "latest.md"]
