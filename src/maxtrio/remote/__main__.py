"""``python -m maxtrio.remote`` — the server process of ``max serve``."""

import sys

from maxtrio.remote._main import main

sys.exit(main())
