"""The git context: what git loaders and operations receive (the repository).

Its own module so that ``initialise`` (``_connector``) builds it without importing the
operations, loaders and change feed.
"""

from __future__ import annotations

import attrs

from ._git import GitRepo


@attrs.frozen
class GitContext:
    """What git loaders and operations receive: the repository."""

    repo: GitRepo
