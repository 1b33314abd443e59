"""Reading the docs as the tests need them: fenced code blocks and relative links."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FENCE = re.compile(r"^```([a-z]*)[^\n]*\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)
FILE_MARK = re.compile(r"^# file: (\S+)\n")


@dataclass(frozen=True)
class Block:
    """One fenced code block: its language and its text."""

    lang: str
    text: str

    @property
    def file(self) -> str | None:
        """The file name a Python block asks to be saved as (its ``# file: NAME`` line)."""
        found = FILE_MARK.match(self.text)
        return found.group(1) if found else None


def blocks(path: Path) -> list[Block]:
    """The fenced code blocks of a Markdown file, in order."""
    return [Block(m.group(1), m.group(2)) for m in FENCE.finditer(path.read_text())]


def as_shell_script(path: Path) -> str:
    """The page's code as one bash script, block after block: shell blocks as they are, a
    Python block with a ``# file:`` line saved as that file, any other Python block run."""
    lines = ["set -euo pipefail"]
    for number, block in enumerate(blocks(path)):
        end = f"ZEROG_BLOCK_{number}"
        if block.lang == "sh":
            lines.append(block.text)
        elif block.lang == "python" and block.file:
            lines.append(f"cat > {block.file} <<'{end}'\n{block.text}{end}")
        elif block.lang == "python":
            lines.append(f"python - <<'{end}'\n{block.text}{end}")
    return "\n".join(lines) + "\n"
