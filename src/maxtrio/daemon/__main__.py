"""``python -m maxtrio.daemon --root <workspace>`` (see ``_main``)."""

import sys

from maxtrio._collector import hold

hold()  # the daemon's start-up runs without the cyclic GC; serving gives it back

from maxtrio.daemon._main import main  # noqa: E402

sys.exit(main())
