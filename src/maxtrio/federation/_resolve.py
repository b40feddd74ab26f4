"""Targeting: cwd context detection (§5.3), ``-t`` value conversion (§5.4).

* :func:`find_project_root` — walk up from a directory to the first one holding both
  ``max.json`` and ``.max``.
* :func:`cwd_context` — the Max URL of a directory: ``max://@``, ``max://@/<ws>`` (ws = the
  root's basename) or ``max://@/<ws>/<inst>`` inside ``.max/installations/<inst>``.
* :func:`target_url` — a ``-t`` value as a URL: absolute ``max://``/``max+http://``; ``@`` =
  global; anything else is a path of children applied to the cwd URL.

Resolution of a URL to live nodes (§5.5) is :meth:`GlobalMax.resolve`.
"""

from __future__ import annotations

import os
from pathlib import Path

from maxtrio.core import MaxUrl


def find_project_root(directory: str | os.PathLike[str]) -> Path | None:
    """The nearest directory at or above ``directory`` holding ``max.json`` and ``.max``."""
    raise NotImplementedError


def cwd_context(directory: str | os.PathLike[str]) -> MaxUrl:
    """The Max URL a command run in ``directory`` targets by default (§5.3)."""
    raise NotImplementedError


def target_url(value: str, cwd_url: MaxUrl) -> MaxUrl:
    """Convert a ``-t`` value to a URL (§5.4); errors are ``core.invalid_max_url``."""
    raise NotImplementedError
