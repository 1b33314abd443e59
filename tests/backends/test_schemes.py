"""The scheme table: every URL scheme names the class that opens it, or the extra to install."""

from __future__ import annotations

import sys

import pytest

from zerog import urls
from zerog.backends import SCHEMES, Scheme, backend_class, open_backend
from zerog.backends.contract import Backend
from zerog.backends.memory import MemoryBackend
from zerog.errors import ConfigurationError
from zerog.testing import FakeClock

AVAILABLE = sorted(s for s, row in SCHEMES.items() if row.target is not None)
WITH_DRIVER = sorted(s for s, row in SCHEMES.items() if row.target and row.driver)


def test_every_scheme_a_url_may_name_has_a_row() -> None:
    assert set(SCHEMES) == set(urls.SCHEMES)


@pytest.mark.parametrize("scheme", AVAILABLE)
def test_a_row_names_a_backend_class(scheme: str) -> None:
    # When the class of an available scheme is asked for (every driver is installed here)
    cls = backend_class(scheme)
    # Then it is a backend, which opens URLs
    assert issubclass(cls, Backend)


@pytest.mark.parametrize("scheme", WITH_DRIVER)
def test_a_missing_driver_names_the_extra(scheme: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given the scheme's driver cannot be imported
    row = SCHEMES[scheme]
    assert row.driver is not None
    monkeypatch.setitem(sys.modules, row.driver, None)
    # When the backend is opened / Then the error names the extra to install
    with pytest.raises(ConfigurationError, match=rf"pip install 'zerog\[{row.extra}\]'"):
        open_backend(f"{scheme}://somewhere/x")


def test_a_scheme_without_a_backend_says_it_is_not_in_this_version(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a scheme whose row names no class (as a planned backend's would)
    monkeypatch.setitem(SCHEMES, "redis", Scheme(None, "redis"))
    # When it is opened / Then the error says so and names the extra it will ship as
    with pytest.raises(ConfigurationError, match=r"not available.*zerog\[redis\]"):
        open_backend("redis://somewhere/0")


def test_memory_opens_with_the_clock_given() -> None:
    clock = FakeClock(1000.0)
    backend = open_backend("memory://", clock=clock)
    assert isinstance(backend, MemoryBackend)
    assert backend.clock() == 1000.0
