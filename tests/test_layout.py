"""The shape of the source tree: what `make lint`'s layers contract does not say."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src" / "zerog"
MAX_LINES = 500  # STYLE.md: rq's 2,000-line job.py is the warning.


def _modules() -> list[Path]:
    return sorted(SRC.rglob("*.py"))


def _name(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _package(path: Path) -> str:
    name = _name(path)
    return name if path.name == "__init__.py" else name.rsplit(".", 1)[0]


def _imports(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append(node.module)
            found.extend(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
    return found


def test_no_module_is_over_500_lines() -> None:
    long = {_name(p): n for p in _modules() if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert long == {}


def test_no_module_imports_another_package_s_private_modules() -> None:
    # A private module (zerog.backends.sqlite._db) is its own package's business: others go
    # through that package's public modules.
    crossings = []
    for path in _modules():
        for imported in _imports(path):
            parts = imported.split(".")
            for depth, part in enumerate(parts):
                if part.startswith("_") and not part.startswith("__"):
                    owner = ".".join(parts[:depth])
                    mine = _package(path)
                    if mine != owner and not mine.startswith(owner + "."):
                        crossings.append(f"{_name(path)} imports {imported}")
                    break
    assert crossings == []
