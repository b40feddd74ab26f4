"""``python -m maxtrio.cli`` — the same as the ``max`` console script (direct mode).

A Ctrl-C while the command table is still being imported (a fresh clone compiles every module
on its first run; a loaded machine is slow) ends as one during the command does:
``Interrupted.`` on stderr and exit 130, not Python's traceback.
"""

import sys

try:
    from maxtrio.cli._main import main

    main()
except KeyboardInterrupt:
    try:
        sys.stderr.write("Interrupted.\n")
        sys.stderr.flush()
    except OSError:
        pass
    sys.exit(130)
