"""The git config, ``{"path": "/abs/path/to/repo"}``, checked at ``initialise`` (no I/O)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from maxtrio.connector import config_directory

from ._errors import ErrInvalidConfig


@attrs.frozen
class GitConfig:
    path: Path

    @classmethod
    def from_mapping(cls, config: Mapping[str, Any]) -> GitConfig:
        path = config_directory(config, "path")
        if isinstance(path, str):
            raise ErrInvalidConfig(reason=path, connector="git")
        return cls(path)

    def to_json(self) -> dict[str, str]:
        return {"path": str(self.path)}
