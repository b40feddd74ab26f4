"""The files onboarding: ``root`` (resolved against the caller's directory, checked to be a
readable directory) and the optional ``include``/``exclude`` patterns and ``gitignore``."""

from __future__ import annotations

import os
from pathlib import Path

from maxtrio.connector import InputField, local_path_onboarding

from ._config import FilesConfig
from ._errors import ErrRootUnavailable


async def check_root(path: Path) -> None:
    """A one-line error unless ``path`` is a directory this process can list."""
    ensure_root(path)


def ensure_root(path: Path) -> None:
    """``check_root``, blocking."""
    if not path.exists():
        raise ErrRootUnavailable(path=str(path), reason="no such directory", connector="files")
    if not path.is_dir():
        raise ErrRootUnavailable(path=str(path), reason="not a directory", connector="files")
    if not os.access(path, os.R_OK | os.X_OK):
        raise ErrRootUnavailable(path=str(path), reason="permission denied", connector="files")


def _patterns_problem(value: object) -> str | None:
    try:
        FilesConfig.from_mapping({"root": "/", "include": value})
    except Exception as exc:
        return str(getattr(exc, "message", exc)).removeprefix("Invalid files config: include: ")
    return None


FilesOnboarding = local_path_onboarding(
    "root",
    label="Directory",
    description="The directory tree to mirror (its .gitignore files are honoured).",
    validate=check_root,
    options={
        "include": InputField(
            "Only paths matching (globs, comma-separated)", check=_patterns_problem
        ),
        "exclude": InputField(
            "Leave out paths matching (globs, comma-separated)", check=_patterns_problem
        ),
        "gitignore": InputField("Honour .gitignore files", "boolean", default=True),
    },
)
