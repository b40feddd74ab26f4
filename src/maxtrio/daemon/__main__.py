"""``python -m maxtrio.daemon --root <workspace>`` (see ``_main``)."""

import sys

from maxtrio.daemon._main import main

sys.exit(main())
