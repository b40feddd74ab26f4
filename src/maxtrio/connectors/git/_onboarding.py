"""The git onboarding: one path (relative paths resolve against the caller's directory),
checked to be a git repository before anything is stored."""

from __future__ import annotations

from pathlib import Path

from maxtrio.connector import local_path_onboarding

from ._git import GitRepo


async def _check_repository(path: Path) -> None:
    await GitRepo(path).check()


GitOnboarding = local_path_onboarding(
    "path",
    label="Git repository",
    description="The directory of a git repository (a work tree or a bare repository).",
    validate=_check_repository,
)
