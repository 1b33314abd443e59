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


def section(text: str, title: str) -> str:
    """The part of a page under the level-2 heading ``title``, up to the next one."""
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


def blocks(path: Path, title: str | None = None) -> list[Block]:
    """The fenced code blocks of a Markdown file (or of one of its sections), in order."""
    text = path.read_text()
    if title is not None:
        text = section(text, title)
    return [Block(m.group(1), m.group(2)) for m in FENCE.finditer(text)]


def as_shell_script(path: Path, title: str | None = None) -> str:
    """The page's code as one bash script, block after block: shell blocks as they are, a
    Python block with a ``# file:`` line saved as that file, any other Python block run."""
    lines = ["set -euo pipefail"]
    for number, block in enumerate(blocks(path, title)):
        end = f"ZEROG_BLOCK_{number}"
        if block.lang == "sh":
            lines.append(block.text)
        elif block.lang == "python" and block.file:
            lines.append(f"cat > {block.file} <<'{end}'\n{block.text}{end}")
        elif block.lang == "python":
            lines.append(f"python - <<'{end}'\n{block.text}{end}")
    return "\n".join(lines) + "\n"


LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
INLINE_CODE = re.compile(r"`[^`\n]*`")
HEADING = re.compile(r"^#{1,6}\s+(.*?)\s*#*$", re.MULTILINE)


def prose(path: Path) -> str:
    """The page without its code: fenced blocks and inline code hold no links."""
    return INLINE_CODE.sub("", FENCE.sub("", path.read_text()))


def relative_links(path: Path) -> list[str]:
    """The targets of the page's links that point into the repository (not URLs)."""
    targets = [m.group(1) for m in LINK.finditer(prose(path))]
    return [t for t in targets if not re.match(r"^[a-z][a-z0-9+.-]*:", t)]


def anchors(path: Path) -> set[str]:
    """The anchors GitHub gives the page's headings."""
    found = set()
    for title in HEADING.findall(FENCE.sub("", path.read_text())):
        text = INLINE_CODE.sub(lambda m: m.group(0).strip("`"), title).lower()
        found.add(re.sub(r"[^\w\- ]", "", text).replace(" ", "-"))
    return found


def pages() -> list[Path]:
    """Every Markdown page of the repository a reader is sent to."""
    found = [ROOT / "README.md", ROOT / "CHANGELOG.md", ROOT / "contrib" / "README.md"]
    found += sorted((ROOT / "docs").rglob("*.md"))
    found += sorted((ROOT / "bench").rglob("README.md"))
    return [p for p in found if p.exists()]
