"""The claude-code onboarding: ``root`` (default ``~/.claude/projects``), resolved against the
caller's directory and checked to be a directory before anything is stored."""

from __future__ import annotations

from pathlib import Path

from maxtrio.connector import local_path_onboarding

from ._config import DEFAULT_ROOT
from ._context import ensure_root


async def check_root(path: Path) -> None:
    """A one-line error unless ``path`` is a directory."""
    ensure_root(path)


ClaudeCodeOnboarding = local_path_onboarding(
    "root",
    label="Claude Code logs",
    description="The directory of Claude Code's session logs (one folder per project).",
    validate=check_root,
    default=DEFAULT_ROOT,
)
