"""Fixtures of the tests that look at beanstalkd itself: a beanstalk backend only (replacing
the conformance suite's ``backend``, which runs every kind) and a plain greenstalk client on
the same server. A test module imports them as ``beanstalk_url`` and so on; their fixture
names are ``url``, ``backend`` and ``client``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import greenstalk
import pytest

from zerog.backends import open_backend
from zerog.backends.beanstalk import BeanstalkBackend
from zerog.testing import FakeClock

from . import beanstalkd


@pytest.fixture(name="url")
def beanstalk_url(tmp_path: Path) -> str:
    """The session's beanstalkd, tubes of the test's own (a random prefix), a fresh store."""
    return beanstalkd.shared().url(tmp_path / "zerog.db")


@pytest.fixture(name="backend")
def beanstalk_backend(url: str, clock: FakeClock) -> Iterator[BeanstalkBackend]:
    opened = open_backend(url, clock=clock)
    assert isinstance(opened, BeanstalkBackend)
    yield opened
    opened.close()


@pytest.fixture(name="client")
def beanstalk_client(backend: BeanstalkBackend) -> Iterator[greenstalk.Client[str]]:
    """A plain client, to look at what beanstalkd holds."""
    plain = greenstalk.Client(backend.address)
    yield plain
    plain.close()
