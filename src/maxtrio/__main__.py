"""``python -m maxtrio``: the ``max`` command, launcher and all (the same as running ``max``)."""

import sys

from max_launcher import main

if __name__ == "__main__":
    sys.exit(main())
