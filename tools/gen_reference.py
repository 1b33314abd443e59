"""Write the generated reference pages in docs/reference/ from the code itself.

- ``python.md``: the public Python API (the names API.md promises), each with its signature
  and docstring;
- ``cli.md``: the ``--help`` of ``zerog`` and of every subcommand;
- ``http.md``: every route of the OpenAPI document ``zerog serve`` publishes.

Run ``python tools/gen_reference.py`` after changing a public signature, a docstring, a
command's flags or a route; ``--check`` writes nothing and exits 1 when a page is stale (the
test suite runs it: ``tests/docs/test_reference.py``).
"""

from __future__ import annotations

import argparse
import ast
import importlib
import inspect
import os
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from unittest import mock

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "reference"
HELP_COLUMNS = "100"  # argparse wraps help to the terminal's width: fix it.
REGENERATE = "python tools/gen_reference.py"

# The public Python API, by module: what API.md names, and what its pages use.
PUBLIC: list[tuple[str, list[str]]] = [
    (
        "zerog",
        [
            "BaseJob",
            "BaseJobSchema",
            "make_base_job",
            "get_base_job",
            "get_job",
            "wait_for",
            "default_store",
            "use",
            "client",
            "State",
            "Settings",
        ],
    ),
    (
        "zerog.job_log",
        [
            "set_completeness",
            "track_completeness",
            "increment_completeness",
            "info",
            "error_log_only",
            "error_continue",
            "error_finish",
            "heartbeat",
        ],
    ),
    (
        "zerog.errors",
        [
            "ZerogError",
            "ConfigurationError",
            "JobValidationError",
            "UnknownJobType",
            "JobNotFound",
            "InvalidTransition",
            "PayloadTooLarge",
            "NotSupported",
            "BackendError",
            "BackendUnavailable",
            "ReservationLost",
            "WFErrorFinish",
            "WFErrorContinue",
        ],
    ),
    ("zerog.registry", ["JOB_MODULES", "import_job_modules"]),
    ("zerog.store", ["Store", "open_store"]),
    ("zerog.record", ["JobSpec"]),
    ("zerog.recurrence", ["RecurSpec"]),
    ("zerog.model", ["Change"]),
    ("zerog.testing", ["memory_store", "make_store", "drain"]),
    ("zerog.deferrable", ["Deferrable"]),
    (
        "zerog.deferrable.backend",
        ["ZerogBackendFactory", "SqliteBackendFactory", "InMemoryBackendFactory"],
    ),
    ("zerog.deferrable.metadata", ["MetadataProducerConsumer"]),
    ("zerog.qless", ["client", "Client"]),
    ("zerog.http", ["make_app"]),
]


def _doc(obj: Any) -> str:
    text = inspect.getdoc(obj) or "(no docstring)"
    return text.strip()


QUOTED = re.compile(r"""(: |-> )(['"])(.*?)\2(?=[,)=]|$| =)""")


def _signature(name: str, obj: Any) -> str:
    """``name(params) -> result``, annotations as written in the source (unquoted)."""
    try:
        text = str(inspect.signature(obj))
    except (TypeError, ValueError):
        return name
    return name + QUOTED.sub(lambda m: m.group(1) + m.group(3), text)


def _methods(cls: type) -> Iterator[tuple[str, Any]]:
    """A class's public methods and properties defined in zerog (its own or inherited)."""
    seen: set[str] = set()
    for klass in cls.__mro__:
        if not klass.__module__.startswith("zerog"):
            continue
        for name, member in vars(klass).items():
            if name.startswith("_") or name in seen:
                continue
            seen.add(name)
            if inspect.isclass(member):
                continue  # a class attribute such as SCHEMA: documented by its class.
            if callable(member) or isinstance(member, property | classmethod | staticmethod):
                yield name, getattr(cls, name, member)
    return


def _attribute(module: Any, name: str) -> tuple[str, str]:
    """A module attribute's declaration (``NAME: type``) and the docstring under it."""
    body = ast.parse(inspect.getsource(module)).body
    for node, after in zip(body, [*body[1:], None], strict=True):
        if isinstance(node, ast.AnnAssign) and ast.unparse(node.target) == name:
            declared = f"{name}: {ast.unparse(node.annotation)}"
            if isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant):
                return declared, inspect.cleandoc(str(after.value.value))
            return declared, "(no docstring)"
    return name, "(no docstring)"


def _python_entry(module: str, name: str) -> list[str]:
    where = importlib.import_module(module)
    obj = getattr(where, name)
    full = f"{module}.{name}"
    if not (inspect.isclass(obj) or callable(obj)):
        declared, doc = _attribute(where, name)
        return [f"### `{full}`", "", "```python", declared, "```", "", doc, ""]
    lines = [f"### `{full}`", "", "```python", _signature(name, obj), "```", "", _doc(obj), ""]
    if inspect.isclass(obj) and not issubclass(obj, BaseException):
        for method, member in sorted(_methods(obj)):
            if isinstance(member, property):
                sig = f"{method}  (property)"
            else:
                sig = _signature(method, member)
            lines += [f"#### `{name}.{method}`", "", "```python", sig, "```", ""]
            lines += [_doc(member), ""]
    return lines


def python_page() -> str:
    lines = [
        "# Python API reference",
        "",
        f"Generated from the code's signatures and docstrings by `{REGENERATE}`; do not edit",
        "by hand. The tutorial ([tutorial.md](../tutorial.md)) shows these names at work.",
        "",
    ]
    for module, names in PUBLIC:
        lines += [f"## `{module}`", ""]
        for name in names:
            lines += _python_entry(module, name)
    return "\n".join(lines).rstrip() + "\n"


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


ARGPARSE_MARK = "Formatted by the argparse of Python"


def _python() -> str:
    return f"{sys.version_info.major}.{sys.version_info.minor}"


def _other_argparse(path: Path) -> bool:
    """Whether a page was formatted by another Python's argparse (whose layout differs
    between versions): --check then leaves it alone instead of calling it stale."""
    if not path.exists():
        return False
    mark = re.search(re.escape(ARGPARSE_MARK) + r" (\d+\.\d+)\.", path.read_text())
    return mark is not None and mark.group(1) != _python()


class _Cores(int):
    """The worker count's default is the machine's cores; the page must not depend on it."""

    def __str__(self) -> str:
        return "the number of cores"


def cli_page() -> str:
    from zerog.cli import build_parser

    with (
        mock.patch.dict(os.environ, {"COLUMNS": HELP_COLUMNS}),
        mock.patch("zerog.cli.worker.core_count", return_value=_Cores(2)),
    ):
        parser = build_parser()
        pages = [("zerog", parser.format_help())]
        pages += [(f"zerog {n}", p.format_help()) for n, p in _subparsers(parser).items()]
    lines = [
        "# Command line reference",
        "",
        f"The `--help` of every `zerog` command, generated by `{REGENERATE}`; do not edit by",
        "hand. Every flag can also be set by the environment variable shown beside it.",
        "",
        f"{ARGPARSE_MARK} {_python()}.",
        "",
        "Commands: " + ", ".join(f"[`{n}`](#{n.replace(' ', '-')})" for n, _ in pages[1:]),
        "",
    ]
    for name, text in pages:
        lines += [f"## {name}", "", "```text", text.rstrip(), "```", ""]
    return "\n".join(lines).rstrip() + "\n"


def http_page() -> str:
    from zerog.http import openapi

    with mock.patch("zerog.registry.JOB_MODULES", []):
        doc = openapi.build()
    lines = [
        "# HTTP API reference",
        "",
        f"Generated from the OpenAPI document by `{REGENERATE}`; do not edit by hand.",
        "",
        "`zerog serve` publishes the full document, with every request and answer schema, at",
        "`GET /api/openapi.json`; point a client generator or an API browser at it. The",
        "document is built on each request from the job classes the server imported",
        "(`--import`): each registered job type adds `POST /api/jobs/{type}`, whose body is",
        "that type's values as its marshmallow schema defines them (`201 {uuid}`; invalid",
        "values `400` with the messages per field; an unknown type `404`).",
        "",
        "With `--token`, every route but `/healthz`, `/readyz` and the dashboard's static",
        "files wants `Authorization: Bearer <token>`.",
        "",
        f"OpenAPI {doc['openapi']}; the routes without any job type registered:",
        "",
        "| method | route | does |",
        "|---|---|---|",
    ]
    for path, operations in doc["paths"].items():
        for method, operation in operations.items():
            summary = str(operation.get("summary", "")).replace("|", "\\|")
            lines.append(f"| {method.upper()} | `{path}` | {summary} |")
    return "\n".join(lines).rstrip() + "\n"


PAGES: dict[str, Callable[[], str]] = {
    "python.md": python_page,
    "cli.md": cli_page,
    "http.md": http_page,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if stale")
    args = parser.parse_args(argv)
    stale = []
    for name, build in PAGES.items():
        path, text = OUT / name, build()
        if path.exists() and path.read_text() == text:
            continue
        if args.check and _other_argparse(path):
            print(f"{path.relative_to(ROOT)}: not checked on Python {_python()}", file=sys.stderr)
            continue
        stale.append(path.relative_to(ROOT))
        if not args.check:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    if args.check and stale:
        names = ", ".join(str(p) for p in stale)
        print(f"stale: {names}; run `{REGENERATE}`", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
