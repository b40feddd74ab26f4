"""The claude-code config, ``{"root": "/abs/.claude/projects"}``, checked at ``initialise``."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from maxtrio.connector import config_directory

from ._errors import ErrInvalidConfig

DEFAULT_ROOT = "~/.claude/projects"


@attrs.frozen
class ClaudeCodeConfig:
    root: Path

    @classmethod
    def from_mapping(cls, config: Mapping[str, Any]) -> ClaudeCodeConfig:
        root = config_directory(config, "root")
        if isinstance(root, str):
            raise ErrInvalidConfig(reason=root, connector="claude-code")
        return cls(root)

    def to_json(self) -> dict[str, str]:
        return {"root": str(self.root)}
