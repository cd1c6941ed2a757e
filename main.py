"""Open the match reviewer; with no arguments, on the bundled demo.

    python main.py [ANNOTATIONS] [--pairs PAIRS.csv] [--screenshot OUT.png]

Subcommands (``match``, ``train-background``) work here as with ``reviewer``.
"""

import sys

from reviewer.cli import main

if __name__ == "__main__":
    sys.exit(main())
