"""``import geyser``: the geyser seed's module name for ``zerog`` (see :mod:`zerog.aliases`)."""

from zerog.aliases import install

install("geyser")
