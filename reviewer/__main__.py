"""``python -m reviewer``: the same command line as ``reviewer``."""

import sys

from reviewer.cli import main

sys.exit(main())
