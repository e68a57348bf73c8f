"""``python -m graphc``: the ``graphc`` command, defined in :mod:`graphc.tools.cli`."""

import sys

from graphc.tools.cli import main

if __name__ == "__main__":
    sys.exit(main())
