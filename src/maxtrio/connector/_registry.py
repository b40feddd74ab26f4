"""The connector registry: discovery without importing, lazy verified loading on ``resolve``.

Where connectors come from, in discovery order (docs/connectors.md
explains writing and installing one):

1. **entry points** of the group ``maxtrio.connectors`` of every installed distribution
   (maxtrio's own built-ins included: ``acme = "maxtrio.connectors.acme:connector"``);
2. **directories**: ``$MAXTRIO_CONNECTORS_DIR`` when set, else every collection under
   ``<max home>/collections/`` (sorted by name). In a scanned directory, each child named
   ``connector-*`` holding a ``pyproject.toml`` is a connector package — a Python project that
   declares its connector exactly as an installed one would::

       [project]
       name = "maxtrio-connector-notes"
       [project.entry-points."maxtrio.connectors"]
       notes = "maxtrio_connector_notes:connector"
       [tool.maxtrio.connector]      # optional
       source = "src"                # import root inside the folder (default: src/ if present)

   Only the TOML is read at discovery (``tomllib``); the module is imported on first
   ``resolve``, from the folder's import root (appended to ``sys.path``; the imported module must
   come from that folder, so an installed package of the same name cannot stand in for it).
   Both are ``_folders``' (imported when a folder is scanned).

Names: the key is the connector's short name (the entry-point name, which must equal
``definition.name``); a directory package's project name and the reference style
``@scope/connector-<name>`` are accepted as aliases. A name discovered twice keeps the first
(a warning in :attr:`ConnectorRegistry.warnings` names both locations); registering a name
twice explicitly is an error. Every resolved object is verified: a :class:`ConnectorModule`
(or an object with a ``ConnectorDef`` ``definition`` and a callable ``initialise``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, Literal

import attrs

from maxtrio.core import MaxError

from ._entry_points import entry_points
from ._errors import (
    ErrConnectorAlreadyRegistered,
    ErrConnectorModuleInvalid,
    ErrConnectorNotFound,
    ErrConnectorNotInstalled,
)
from ._installation import ConnectorModule

ENTRY_POINT_GROUP = "maxtrio.connectors"
CONNECTORS_DIR_ENV = "MAXTRIO_CONNECTORS_DIR"
MAX_HOME_ENV = "MAX_HOME"
_SCOPED_ALIAS = re.compile(r"@[^/]+/connector-(.+)")

Source = Literal["entry-point", "directory", "local"]


@attrs.frozen
class ConnectorEntry:
    """A registered connector, known without importing it."""

    name: str
    source: Source
    location: str
    aliases: tuple[str, ...] = ()


def default_max_home(environ: Mapping[str, str] | None = None) -> Path:
    """``$MAX_HOME`` when set, else ``~/.max``."""
    env = os.environ if environ is None else environ
    value = env.get(MAX_HOME_ENV)
    return Path(value) if value else Path.home() / ".max"


class ConnectorRegistry:
    """Connectors by name; ``resolve`` imports once, verifies, and caches."""

    def __init__(self) -> None:
        self._entries: dict[str, ConnectorEntry] = {}
        self._loaders: dict[str, Callable[[], object]] = {}
        self._aliases: dict[str, str] = {}
        self._resolved: dict[str, ConnectorModule] = {}
        self.warnings: list[str] = []

    def __repr__(self) -> str:
        return f"ConnectorRegistry({list(self._entries)})"

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self._canonical(name) is not None

    # -- building ------------------------------------------------------------------------------

    @classmethod
    def discover(
        cls,
        *,
        environ: Mapping[str, str] | None = None,
        max_home: Path | None = None,
        group: str = ENTRY_POINT_GROUP,
    ) -> ConnectorRegistry:
        """Entry points, then ``$MAXTRIO_CONNECTORS_DIR`` or else every collection."""
        env = os.environ if environ is None else environ
        registry = cls()
        registry.add_entry_points(group)
        override = env.get(CONNECTORS_DIR_ENV)
        if override:
            registry.add_directory(Path(override))
        else:
            home = max_home if max_home is not None else default_max_home(env)
            registry.add_collections(home / "collections")
        return registry

    def add(
        self,
        name: str,
        load: Callable[[], object],
        *,
        source: Source = "local",
        location: str = "<local>",
        aliases: tuple[str, ...] = (),
    ) -> None:
        """Register a lazy loader under ``name``; a name already known is an error."""
        if self._canonical(name) is not None:
            raise ErrConnectorAlreadyRegistered(connector=name)
        self._register(ConnectorEntry(name, source, location, aliases), load)

    def add_module(self, module: ConnectorModule, *, location: str = "<local>") -> None:
        """Register an already-imported module under its definition's name."""
        self.add(module.definition.name, lambda: module, location=location)

    def add_entry_points(self, group: str = ENTRY_POINT_GROUP) -> int:
        """Register every entry point of ``group``; returns how many were new."""
        added = 0
        for ep in sorted(entry_points(group), key=lambda e: e.name):
            location = f"{ep.value} (entry point)"
            added += self._discovered(ConnectorEntry(ep.name, "entry-point", location), ep.load)
        return added

    def add_collections(self, root: Path) -> int:
        """Scan every collection (child directory or symlink) of ``root``, sorted by name."""
        if not root.is_dir():
            return 0
        return sum(self.add_directory(child) for child in sorted(root.iterdir()) if child.is_dir())

    def add_directory(self, directory: Path) -> int:
        """Register each ``connector-*`` package folder of ``directory``; returns how many."""
        if not directory.is_dir():
            return 0
        added = 0
        for folder in sorted(directory.iterdir()):
            if not folder.name.startswith("connector-") or not folder.is_dir():
                continue
            if not (folder / "pyproject.toml").is_file():
                continue
            from ._folders import directory_loader, read_connector_package

            try:
                packages = read_connector_package(folder)
            except MaxError as err:
                self.warnings.append(err.message)
                continue
            for package in packages:
                aliases = (package.package,) if len(packages) == 1 else ()
                entry = ConnectorEntry(package.name, "directory", str(folder), aliases)
                added += self._discovered(entry, directory_loader(package))
        return added

    def _discovered(self, entry: ConnectorEntry, load: Callable[[], object]) -> int:
        existing = self._canonical(entry.name)
        if existing is not None:
            first = self._entries[existing]
            if _same_place(first.location, entry.location):
                return 0
            self.warnings.append(
                f'Connector "{entry.name}" found twice: using {first.location}, '
                f"ignoring {entry.location}"
            )
            return 0
        aliases = tuple(a for a in entry.aliases if self._canonical(a) is None)
        self._register(attrs.evolve(entry, aliases=aliases), load)
        return 1

    def _register(self, entry: ConnectorEntry, load: Callable[[], object]) -> None:
        self._entries[entry.name] = entry
        self._loaders[entry.name] = load
        for alias in entry.aliases:
            self._aliases[alias] = entry.name

    # -- reading -------------------------------------------------------------------------------

    def list(self) -> list[ConnectorEntry]:
        """Every registered connector in registration order (nothing is imported)."""
        return list(self._entries.values())

    def __iter__(self) -> Iterator[ConnectorEntry]:
        return iter(self.list())

    def entry(self, name: str) -> ConnectorEntry:
        canonical = self._canonical(name)
        if canonical is None:
            raise ErrConnectorNotFound(connector=name)
        return self._entries[canonical]

    def resolve(self, name: str) -> ConnectorModule:
        """Import (once), verify and return the connector module known as ``name``."""
        entry = self.entry(name)
        cached = self._resolved.get(entry.name)
        if cached is not None:
            return cached
        try:
            loaded = self._loaders[entry.name]()
        except MaxError:
            raise
        except Exception as exc:
            raise ErrConnectorNotInstalled(
                connector=entry.name, location=entry.location, cause=exc
            ) from exc
        module = verify_connector_module(loaded, entry.name, entry.location)
        self._resolved[entry.name] = module
        return module

    def _canonical(self, name: str) -> str | None:
        if name in self._entries:
            return name
        if name in self._aliases:
            return self._aliases[name]
        scoped = _SCOPED_ALIAS.fullmatch(name)
        if scoped and scoped.group(1) in self._entries:
            return scoped.group(1)
        return None


def _same_place(a: str, b: str) -> bool:
    if a == b:
        return True
    try:
        return Path(a).resolve() == Path(b).resolve()
    except OSError:
        return False


# -- verification -------------------------------------------------------------------------------


def verify_connector_module(obj: object, name: str, location: str) -> ConnectorModule:
    """Check the shape of what a connector exports (kept shallow)."""

    def invalid(reason: str) -> MaxError:
        return ErrConnectorModuleInvalid(connector=name, location=location, reason=reason)

    if isinstance(obj, ConnectorModule):
        module = obj
    else:
        from ._definition import ConnectorDef

        definition: Any = getattr(obj, "definition", None)
        initialise: Any = getattr(obj, "initialise", None)
        if definition is None or not callable(initialise):
            raise invalid(
                "the exported object must have a `definition` and an `initialise` function"
            )
        if not isinstance(definition, ConnectorDef):
            raise invalid("its `definition` is not a ConnectorDef")
        module = ConnectorModule(definition, initialise)
    if not callable(module.initialise):
        raise invalid("its `initialise` is not callable")
    if module.name != name:
        raise invalid(f'it defines the connector "{module.name}", not "{name}"')
    return module
