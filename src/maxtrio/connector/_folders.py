"""Connector folders: a ``connector-*`` folder's ``pyproject.toml`` read (nothing imported) and,
on first ``resolve``, its module imported from the folder (see ``_registry`` for discovery).

Imported by the registry when it scans a folder: a machine without connector folders never
loads it (nor ``tomllib``).
"""

from __future__ import annotations

import importlib
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs

from maxtrio.core import MaxError

from ._errors import ErrConnectorModuleInvalid, ErrConnectorPackageInvalid
from ._registry import ENTRY_POINT_GROUP

_ENTRY = re.compile(r"([A-Za-z_][\w.]*)\s*:\s*([A-Za-z_][\w.]*)")


@attrs.frozen
class ConnectorPackage:
    """A connector folder's ``pyproject.toml``, checked (nothing imported)."""

    package: str
    name: str
    module: str
    attribute: str
    import_root: Path
    folder: Path


def read_connector_package(folder: Path) -> list[ConnectorPackage]:
    """Parse and check ``<folder>/pyproject.toml`` (no import); one package per entry point."""
    location = str(folder)

    def invalid(reason: str) -> MaxError:
        return ErrConnectorPackageInvalid(location=location, reason=reason)

    import tomllib  # only when a connector folder is there: not on every start

    try:
        data = tomllib.loads((folder / "pyproject.toml").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        raise invalid("pyproject.toml is not valid TOML") from None
    project = data.get("project")
    package = project.get("name") if isinstance(project, dict) else None
    if not isinstance(package, str) or not package.strip():
        raise invalid('pyproject.toml has no [project] "name"')
    declared = project.get("entry-points") if isinstance(project, dict) else None
    group = declared.get(ENTRY_POINT_GROUP) if isinstance(declared, dict) else None
    if not isinstance(group, dict) or not group:
        raise invalid(
            f'pyproject.toml has no resolvable entry point ([project.entry-points."'
            f'{ENTRY_POINT_GROUP}"] name = "module:attribute")'
        )
    tool = data.get("tool")
    settings = tool.get("maxtrio", {}).get("connector", {}) if isinstance(tool, dict) else {}
    source = settings.get("source") if isinstance(settings, dict) else None
    if source is None:
        import_root = folder / "src" if (folder / "src").is_dir() else folder
    elif (
        isinstance(source, str)
        and not Path(source).is_absolute()
        and ".." not in Path(source).parts
    ):
        import_root = folder / source
    else:
        raise invalid("[tool.maxtrio.connector] source must be a relative path inside the folder")
    packages: list[ConnectorPackage] = []
    for name, value in group.items():
        match = _ENTRY.fullmatch(value.strip()) if isinstance(value, str) else None
        if match is None:
            raise invalid(f'entry point "{name}" must read "module:attribute"')
        packages.append(
            ConnectorPackage(package, name, match.group(1), match.group(2), import_root, folder)
        )
    return packages


def directory_loader(package: ConnectorPackage) -> Callable[[], object]:
    """The lazy loader of ``package``'s connector (:func:`import_from_folder`)."""

    def load() -> object:
        return import_from_folder(package)

    return load


def import_from_folder(package: ConnectorPackage) -> object:
    """Import ``package.module`` from its folder and return ``package.attribute``."""
    root = str(package.import_root.resolve())
    if root not in sys.path:
        sys.path.append(root)
    importlib.invalidate_caches()
    module = importlib.import_module(package.module)
    origin = getattr(module, "__file__", None)
    if origin is None or not Path(origin).resolve().is_relative_to(package.folder.resolve()):
        raise ErrConnectorModuleInvalid(
            connector=package.name,
            location=str(package.folder),
            reason=f"module {package.module!r} is imported from {origin}, not from this folder",
        )
    target: Any = module
    for part in package.attribute.split("."):
        if not hasattr(target, part):
            raise ErrConnectorModuleInvalid(
                connector=package.name,
                location=str(package.folder),
                reason=f"module {package.module!r} has no attribute {package.attribute!r}",
            )
        target = getattr(target, part)
    return target
