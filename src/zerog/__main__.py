"""``python -m zerog``: the same command as ``zerog``."""

import sys

from zerog.cli import main

if __name__ == "__main__":
    sys.exit(main())
