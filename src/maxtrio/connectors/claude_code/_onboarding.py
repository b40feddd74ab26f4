"""The claude-code onboarding: ``root`` (default ``~/.claude/projects``), resolved against the
caller's directory and checked to be a directory before anything is stored."""

from __future__ import annotations

from maxtrio.connector import local_path_onboarding

from ._config import DEFAULT_ROOT
from ._context import check_root

ClaudeCodeOnboarding = local_path_onboarding(
    "root",
    label="Claude Code logs",
    description="The directory of Claude Code's session logs (one folder per project).",
    validate=check_root,
    default=DEFAULT_ROOT,
)
