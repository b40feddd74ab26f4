"""``scaffold_connector``: write a working connector package from the templates in ``scaffold/``.

What ``max connector new NAME`` writes (``NAME`` = ``notes``, module ``maxtrio_connector_notes``,
class prefix ``Notes``)::

    connector-notes/
      pyproject.toml          entry point notes = "maxtrio_connector_notes:connector"
      Makefile                make test (the Python that has maxtrio)
      README.md
      examples/items.json     a source to connect to at once
      src/maxtrio_connector_notes/
        __init__.py _errors.py _entities.py _client.py _loaders.py _seeder.py _connector.py
      tests/
        __init__.py fake.py test_connector.py

Templates are ``*.tmpl`` files whose ``{{name}}``, ``{{Name}}``, ``{{module}}`` and
``{{python}}`` are replaced; ``src/module`` becomes ``src/<module>``. Nothing is written when the
name is not usable or the target is a non-empty directory.
"""

from __future__ import annotations

import re
import sys
from importlib import resources
from importlib.abc import Traversable
from pathlib import Path

import attrs

from ._errors import ErrInvalidConnectorName, ErrScaffoldTargetExists

_NAME = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*")
TEMPLATE_SUFFIX = ".tmpl"


@attrs.frozen
class ScaffoldNames:
    name: str  # notes, my-notes
    module: str  # maxtrio_connector_my_notes
    prefix: str  # MyNotes

    @classmethod
    def for_name(cls, name: str) -> ScaffoldNames:
        if not _NAME.fullmatch(name or ""):
            raise ErrInvalidConnectorName(
                name=name,
                reason="use lowercase letters, digits and single '-', starting with a letter",
            )
        parts = name.split("-")
        prefix = "".join(p[:1].upper() + p[1:] for p in parts)
        return cls(name, "maxtrio_connector_" + "_".join(parts), prefix)


def scaffold_connector(
    name: str, directory: Path, *, python: str | None = None
) -> tuple[ScaffoldNames, list[Path]]:
    """Write the package for connector ``name`` into ``directory``; returns what it wrote."""
    names = ScaffoldNames.for_name(name)
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise ErrScaffoldTargetExists(path=str(directory))
    tokens = {
        "{{name}}": names.name,
        "{{Name}}": names.prefix,
        "{{module}}": names.module,
        "{{python}}": python or sys.executable,
    }
    written: list[Path] = []
    root = resources.files("maxtrio.connector").joinpath("scaffold")
    for relative, template in _templates(root, ""):
        target = directory / relative.replace("src/module", f"src/{names.module}", 1)
        text = template.read_text(encoding="utf-8")
        for token, value in tokens.items():
            text = text.replace(token, value)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        written.append(target)
    return names, written


def _templates(node: Traversable, prefix: str) -> list[tuple[str, Traversable]]:
    found: list[tuple[str, Traversable]] = []
    for child in sorted(node.iterdir(), key=lambda c: c.name):
        path = f"{prefix}{child.name}"
        if child.is_dir():
            found.extend(_templates(child, f"{path}/"))
        elif child.name.endswith(TEMPLATE_SUFFIX):
            found.append((path[: -len(TEMPLATE_SUFFIX)], child))
    return found
