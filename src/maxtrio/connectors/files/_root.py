"""The root check: a one-line error unless the configured root is a directory this process can
list — run by onboarding, by the health check and as a sync's first step.

Its own module so that ``initialise``'s health check (``_connector``) does not import the
onboarding.
"""

from __future__ import annotations

from pathlib import Path

from maxtrio.connector import directory_problem

from ._errors import ErrRootUnavailable


async def check_root(path: Path) -> None:
    """A one-line error unless ``path`` is a directory this process can list."""
    ensure_root(path)


def ensure_root(path: Path) -> None:
    """``check_root``, blocking."""
    problem = directory_problem(path)
    if problem is not None:
        raise ErrRootUnavailable(path=str(path), reason=problem, connector="files")
