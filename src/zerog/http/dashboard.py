"""The dashboard: one static HTML page and its scripts and styles, served by the API's app.

The files hold no data: the page's scripts read everything through the JSON API, with the
bearer token the user types in (see ``dashboard_files/api.js``). So the files are served
without the token, and every data route stays guarded as before. The page runs under a strict
Content-Security-Policy: scripts and styles from this server only, no inline code, and
Trusted Types required, so that an HTML string can never be turned into markup by mistake.
"""

from __future__ import annotations

import functools
import importlib.resources

from zerog.http._base import ApiError, ApiHandler

PAGE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'; "
    "require-trusted-types-for 'script'; trusted-types 'none'"
)
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}
FILES_DIR = "dashboard_files"


@functools.cache
def _files() -> dict[str, bytes]:
    """Every file of the dashboard by its path (``views/job.js``), read once: a few dozen
    kilobytes, and a fixed set, so a request for any other name is a plain miss."""
    found: dict[str, bytes] = {}
    pending = [(importlib.resources.files("zerog.http").joinpath(FILES_DIR), "")]
    while pending:
        folder, base = pending.pop()
        for entry in folder.iterdir():
            if entry.is_dir():
                pending.append((entry, f"{base}{entry.name}/"))
            elif entry.name.endswith(tuple(CONTENT_TYPES)):
                found[base + entry.name] = entry.read_bytes()
    return found


def asset(name: str) -> bytes | None:
    """A file of the dashboard, or None if there is no such file."""
    return _files().get(name)


class _FileHandler(ApiHandler):
    """Sends one of the dashboard's files, with the page's policy."""

    auth_required = False  # the files hold no data (see the module's docstring).

    def send_file(self, name: str) -> None:
        body = asset(name)
        if body is None:
            raise ApiError(404, "no such route")  # as for any unknown path.
        self.set_header("Content-Type", CONTENT_TYPES[name[name.rfind(".") :]])
        self.set_header("Content-Security-Policy", PAGE_CSP)
        self.set_header("Cache-Control", "no-cache")  # revalidate (ETag): upgrades show at once.
        self.finish(body)


class IndexHandler(_FileHandler):
    """``GET /``: the dashboard's one page; its hash (``#/jobs``) picks the view."""

    def get(self) -> None:
        self.send_file("index.html")


class DashboardAssetHandler(_FileHandler):
    """``GET /dashboard/{file}``: a script, style sheet or icon of the dashboard. A name that
    is not one of its files gets the guards of any unknown path (401 before 404)."""

    def prepare(self) -> None:
        args = self.path_args or [""]
        self.auth_required = asset(str(args[0])) is None
        super().prepare()

    def get(self, name: str) -> None:
        self.send_file(name)
