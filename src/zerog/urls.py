"""The one place a backend URL is parsed, and masked for printing."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from zerog.errors import ConfigurationError

SCHEMES = ("sqlite", "memory", "redis", "postgresql", "beanstalk")
ALIASES = {"postgres": "postgresql", "rediss": "redis", "unix": "redis"}


@dataclass(frozen=True)
class BackendURL:
    """A parsed backend URL: ``scheme://[user[:password]@]host[:port]/path?options``."""

    raw: str
    scheme: str
    host: str
    port: int | None
    path: str
    options: dict[str, str]

    @property
    def masked(self) -> str:
        """The URL with any password replaced by ``***``, safe to print."""
        return mask(self.raw)


def parse_url(url: str) -> BackendURL:
    """Parse and check a backend URL; an unknown scheme names itself and the known ones."""
    if not isinstance(url, str) or "://" not in url:
        raise ConfigurationError(
            f"backend URL {url!r} is not a URL; expected one of: "
            + ", ".join(f"{s}://" for s in SCHEMES)
        )
    parts = urlsplit(url)
    scheme = ALIASES.get(parts.scheme.lower(), parts.scheme.lower())
    if scheme not in SCHEMES:
        raise ConfigurationError(
            f"unknown backend URL scheme {parts.scheme!r} in {mask(url)!r}; expected one of: "
            + ", ".join(f"{s}://" for s in SCHEMES)
        )
    try:
        port = parts.port
    except ValueError as exc:
        raise ConfigurationError(f"bad port in backend URL {mask(url)!r}") from exc
    return BackendURL(
        raw=url,
        scheme=scheme,
        host=parts.hostname or "",
        port=port,
        path=parts.path,
        options=dict(parse_qsl(parts.query)),
    )


def mask(url: str) -> str:
    """Hide the password of a URL."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparseable url>"
    if not parts.password:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))
