"""The server log: human-oriented lines on stderr, filtered by ``LOG_LEVEL``.

stdout is kept for the one readiness line (``Server running on <host>:<port>``), which harnesses
wait for; nothing else the server writes goes there.
"""

from __future__ import annotations

import logging
import sys

TRACE = 5
LEVELS = {
    "trace": TRACE,
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warn": logging.WARNING,
    "error": logging.ERROR,
    "fatal": logging.CRITICAL,
}


def configure_logging(level: str) -> logging.Logger:
    """Send ``maxtrio.flows`` records at or above ``level`` to stderr; return that logger."""
    logging.addLevelName(TRACE, "TRACE")
    logger = logging.getLogger("maxtrio.flows")
    logger.setLevel(LEVELS.get(level, logging.INFO))
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        logger.addHandler(handler)
    logger.propagate = False
    return logger
