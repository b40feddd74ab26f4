"""The files onboarding: ``root`` (resolved against the caller's directory, checked to be a
readable directory) and the optional ``include``/``exclude`` patterns and ``gitignore``."""

from __future__ import annotations

from maxtrio.connector import InputField, local_path_onboarding

from ._config import FilesConfig
from ._root import check_root


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
