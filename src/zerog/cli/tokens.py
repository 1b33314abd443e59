"""``zerog serve --tokens-file PATH``: the API's named tokens, one ``NAME=SECRET`` a line.

A file keeps secrets off the command line (which other users of the machine can read) and
out of the environment of every child. Blank lines and lines starting with ``#`` are
skipped; every other line must be ``NAME=SECRET``, NAME being 1 to 64 letters, digits or
``_.@-``: the actor the audit trail names for what its holder does (zerog.audit). Like an SSH
key, the file must be readable by its owner alone: one that its group or others may read
or write is refused (``chmod 600 PATH``). A malformed line is refused by its number, never
by its content.
"""

from __future__ import annotations

import os
import stat

from zerog.audit import TOKEN_NAME
from zerog.errors import ConfigurationError

OPEN_BITS = stat.S_IRWXG | stat.S_IRWXO  # group or others may read, write or run it.


def read_tokens_file(path: str) -> list[str]:
    """The ``NAME=SECRET`` lines of a tokens file; ConfigurationError when it is open to
    others, empty, or has a line that is not a named token."""
    try:
        mode = os.stat(path).st_mode
        with open(path, encoding="utf-8") as handle:
            lines = handle.read().splitlines()
    except OSError as exc:
        raise ConfigurationError(f"cannot read the tokens file {path}: {exc.strerror}") from None
    if mode & OPEN_BITS:
        raise ConfigurationError(
            f"the tokens file {path} may be read or written by others "
            f"(mode {stat.S_IMODE(mode):o}): chmod 600 {path}"
        )
    tokens = []
    for number, line in enumerate(lines, start=1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        if not TOKEN_NAME.match(text):
            raise ConfigurationError(
                f"{path}, line {number}: not NAME=SECRET (NAME: 1-64 of A-Z a-z 0-9 _ . @ -)"
            )
        tokens.append(text)
    if not tokens:
        raise ConfigurationError(f"the tokens file {path} names no token")
    return tokens
