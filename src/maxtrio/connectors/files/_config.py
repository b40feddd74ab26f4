"""The files config: ``root`` (absolute), ``include``/``exclude`` globs, ``gitignore``.

``include`` and ``exclude`` are gitignore-style patterns (``*.py``, ``docs/``, ``src/**/*.md``)
matched against paths relative to the root; a list, or one string with commas. ``gitignore``
(default true) honours the tree's ``.gitignore`` files. Checked at ``initialise`` (no I/O): a
bad value is one line, ``connector-files.invalid_config``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from maxtrio.connector import config_directory

from ._errors import ErrInvalidConfig


@attrs.frozen
class FilesConfig:
    root: Path
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    gitignore: bool = True

    @classmethod
    def from_mapping(cls, config: Mapping[str, Any]) -> FilesConfig:
        root = config_directory(config, "root")
        if isinstance(root, str):
            raise ErrInvalidConfig(reason=root, connector="files")
        return cls(
            root,
            _patterns(config, "include"),
            _patterns(config, "exclude"),
            _flag(config, "gitignore", default=True),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "root": str(self.root),
            "include": list(self.include),
            "exclude": list(self.exclude),
            "gitignore": self.gitignore,
        }


def _patterns(config: Mapping[str, Any], key: str) -> tuple[str, ...]:
    value = config.get(key)
    if value is None or value == "":
        return ()
    items: Sequence[object]
    if isinstance(value, str):
        items = value.split(",")
    elif isinstance(value, list | tuple):
        items = value
    else:
        raise ErrInvalidConfig(reason=f"{key} must be a list of patterns", connector="files")
    patterns = []
    for item in items:
        if not isinstance(item, str):
            raise ErrInvalidConfig(reason=f"{key} must hold strings", connector="files")
        if item.strip():
            patterns.append(item.strip())
    if not patterns:
        return ()
    import pathspec  # only to check patterns: initialise without them (max ls) never loads it

    try:
        pathspec.GitIgnoreSpec.from_lines(patterns)
    except (ValueError, TypeError) as exc:
        raise ErrInvalidConfig(reason=f"{key}: {exc}", connector="files") from None
    return tuple(patterns)


def _flag(config: Mapping[str, Any], key: str, *, default: bool) -> bool:
    value = config.get(key)
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    raise ErrInvalidConfig(reason=f"{key} must be true or false", connector="files")
