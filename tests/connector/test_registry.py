"""The connector registry: explicit registration, entry points, connector folders, verification."""

from __future__ import annotations

import sys
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from maxtrio.connector import (
    CONNECTORS_DIR_ENV,
    ConnectorModule,
    ConnectorRegistry,
    ErrConnectorAlreadyRegistered,
    ErrConnectorModuleInvalid,
    ErrConnectorNotFound,
    ErrConnectorNotInstalled,
    ErrConnectorPackageInvalid,
    read_connector_package,
)
from maxtrio.core import MaxError

from .sample import make_module, notes_connector


@pytest.fixture(autouse=True)
def _restore_import_state() -> Iterator[None]:
    path, modules = list(sys.path), set(sys.modules)
    yield
    sys.path[:] = path
    for name in set(sys.modules) - modules:
        del sys.modules[name]


# -- explicit registration -------------------------------------------------------------------


def test_resolve_loads_once_and_caches() -> None:
    calls: list[int] = []

    def load() -> object:
        calls.append(1)
        return notes_connector

    registry = ConnectorRegistry()
    registry.add("notes", load)
    assert [e.name for e in registry.list()] == ["notes"]
    assert calls == []  # listing never loads
    assert registry.resolve("notes") is notes_connector
    assert registry.resolve("notes") is notes_connector
    assert calls == [1]
    assert "notes" in registry
    assert "@max/connector-notes" in registry
    assert registry.resolve("@max/connector-notes") is notes_connector


def test_unknown_and_duplicate_names() -> None:
    registry = ConnectorRegistry()
    registry.add_module(notes_connector)
    with pytest.raises(MaxError) as caught:
        registry.add("notes", lambda: notes_connector)
    assert ErrConnectorAlreadyRegistered.matches(caught.value)
    assert caught.value.message == 'Connector "notes" is already registered'
    with pytest.raises(MaxError) as caught:
        registry.resolve("github")
    assert ErrConnectorNotFound.matches(caught.value)
    assert caught.value.message == 'Connector "github" not found in registry'
    assert caught.value.has("NotFound")
    assert caught.value.has("HasConnector")


def test_a_failing_import_is_connector_not_installed_with_the_cause() -> None:
    def load() -> object:
        raise ImportError("No module named 'octokit'")

    registry = ConnectorRegistry()
    registry.add("github", load, location="/somewhere/connector-github")
    with pytest.raises(MaxError) as caught:
        registry.resolve("github")
    assert ErrConnectorNotInstalled.matches(caught.value)
    assert caught.value.code == "app.connector_not_installed"
    assert caught.value.message == "Connector: github could not be loaded"
    assert caught.value.data["location"] == "/somewhere/connector-github"
    assert caught.value.cause is not None
    assert "octokit" in caught.value.cause.message


class DuckModule:
    """Not a ConnectorModule, but shaped like one."""

    def __init__(self) -> None:
        self.definition = notes_connector.definition
        self.initialise = notes_connector.initialise


@pytest.mark.parametrize(
    ("exported", "reason"),
    [
        (object(), "the exported object must have a `definition` and an `initialise` function"),
        (
            type("Half", (), {"definition": 1, "initialise": print})(),
            "its `definition` is not a ConnectorDef",
        ),
        (make_module("other"), 'it defines the connector "other", not "notes"'),
    ],
)
def test_exports_are_verified(exported: object, reason: str) -> None:
    registry = ConnectorRegistry()
    registry.add("notes", lambda: exported, location="here")
    with pytest.raises(MaxError) as caught:
        registry.resolve("notes")
    assert ErrConnectorModuleInvalid.matches(caught.value)
    assert caught.value.message == (
        f'Connector "notes" at here is not a valid connector module: {reason}'
    )


def test_a_module_shaped_object_is_accepted() -> None:
    registry = ConnectorRegistry()
    registry.add("notes", DuckModule)
    module = registry.resolve("notes")
    assert isinstance(module, ConnectorModule)
    assert module.definition is notes_connector.definition


# -- entry points ------------------------------------------------------------------------------


def install_distribution(site: Path, group: str, entries: dict[str, str]) -> None:
    """A real (path-based) distribution whose metadata declares ``entries`` in ``group``."""
    info = site / f"fake_connectors_{uuid.uuid4().hex[:8]}-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: fake-connectors\nVersion: 0.1\n")
    lines = "".join(f"{name} = {value}\n" for name, value in entries.items())
    (info / "entry_points.txt").write_text(f"[{group}]\n{lines}")


def test_the_built_in_acme_connector_is_an_entry_point() -> None:
    registry = ConnectorRegistry.discover(environ={}, max_home=Path("/nonexistent"))
    entry = registry.entry("acme")
    assert entry.source == "entry-point"
    assert entry.location == "maxtrio.connectors.acme:connector (entry point)"
    module = registry.resolve("acme")
    assert module.definition.name == "acme"
    assert registry.resolve("@max/connector-acme") is module


def test_entry_points_of_installed_distributions(tmp_path: Path) -> None:
    group = f"maxtrio.test_connectors_{uuid.uuid4().hex[:8]}"
    install_distribution(
        tmp_path,
        group,
        {
            "notes": "tests.connector.sample:notes_connector",
            "broken": "no_such_module_for_maxtrio_tests:connector",
            "schema": "tests.connector.sample:NOTES_SCHEMA",
        },
    )
    sys.path.insert(0, str(tmp_path))
    registry = ConnectorRegistry()
    assert registry.add_entry_points(group) == 3
    assert registry.add_entry_points(group) == 0  # the same places again: nothing new, no noise
    assert registry.warnings == []
    assert registry.resolve("notes") is notes_connector
    with pytest.raises(MaxError) as caught:
        registry.resolve("broken")
    assert ErrConnectorNotInstalled.matches(caught.value)
    with pytest.raises(MaxError) as caught:
        registry.resolve("schema")
    assert ErrConnectorModuleInvalid.matches(caught.value)


# -- connector folders -------------------------------------------------------------------------

CONNECTOR_SOURCE = '''
"""A notes connector living in a folder (not installed)."""
from tests.connector.sample import make_module

connector = make_module({name!r})
'''


def write_connector_folder(
    parent: Path,
    folder: str,
    *,
    name: str = "notes",
    package: str = "maxtrio-connector-notes",
    pyproject: str | None = None,
    source: str = CONNECTOR_SOURCE,
) -> str:
    """``<parent>/<folder>/`` with a pyproject.toml and ``src/<module>/__init__.py``."""
    module = f"notes_connector_{uuid.uuid4().hex[:10]}"
    root = parent / folder
    (root / "src" / module).mkdir(parents=True)
    (root / "src" / module / "__init__.py").write_text(source.format(name=name))
    if pyproject is None:
        pyproject = f"""
            [project]
            name = "{package}"
            version = "0.1.0"

            [project.entry-points."maxtrio.connectors"]
            {name} = "{module}:connector"
        """
    (root / "pyproject.toml").write_text(textwrap.dedent(pyproject))
    return module


def test_connectors_dir_is_scanned_without_importing(tmp_path: Path) -> None:
    module = write_connector_folder(tmp_path, "connector-notes")
    (tmp_path / "not-a-connector").mkdir()
    (tmp_path / "connector-empty").mkdir()  # no pyproject.toml: not a package, skipped
    registry = ConnectorRegistry.discover(environ={CONNECTORS_DIR_ENV: str(tmp_path)})
    entry = registry.entry("notes")
    assert entry.source == "directory"
    assert entry.location == str(tmp_path / "connector-notes")
    assert entry.aliases == ("maxtrio-connector-notes",)
    assert module not in sys.modules
    resolved = registry.resolve("maxtrio-connector-notes")
    assert resolved.definition.name == "notes"
    assert sys.modules[module].__file__.startswith(str(tmp_path))  # type: ignore[union-attr]
    assert registry.resolve("notes") is resolved
    assert "acme" in registry  # entry points come first


def test_collections_are_scanned_in_order_and_the_first_name_wins(tmp_path: Path) -> None:
    home = tmp_path / "home"
    write_connector_folder(home / "collections" / "a-collection", "connector-notes")
    write_connector_folder(
        home / "collections" / "b-collection", "connector-notes", package="other-notes"
    )
    registry = ConnectorRegistry.discover(environ={}, max_home=home)
    assert registry.entry("notes").location == str(
        home / "collections" / "a-collection" / "connector-notes"
    )
    assert registry.warnings == [
        f'Connector "notes" found twice: using {home}/collections/a-collection/connector-notes, '
        f"ignoring {home}/collections/b-collection/connector-notes"
    ]
    assert registry.resolve("notes").definition.name == "notes"


def test_connectors_dir_replaces_the_collections(tmp_path: Path) -> None:
    write_connector_folder(tmp_path / "home" / "collections" / "c", "connector-notes")
    registry = ConnectorRegistry.discover(
        environ={CONNECTORS_DIR_ENV: str(tmp_path / "empty")}, max_home=tmp_path / "home"
    )
    assert "notes" not in registry


@pytest.mark.parametrize(
    ("pyproject", "reason"),
    [
        ("[project\nname=", "pyproject.toml is not valid TOML"),
        ('[project]\nversion = "1"\n', 'pyproject.toml has no [project] "name"'),
        ('[project]\nname = "x"\n', "pyproject.toml has no resolvable entry point"),
        (
            '[project]\nname = "x"\n[project.entry-points."maxtrio.connectors"]\nnotes = "a b"\n',
            'entry point "notes" must read "module:attribute"',
        ),
        (
            '[project]\nname = "x"\n[project.entry-points."maxtrio.connectors"]\nnotes = "m:c"\n'
            '[tool.maxtrio.connector]\nsource = "../elsewhere"\n',
            "source must be a relative path inside the folder",
        ),
    ],
)
def test_invalid_packages_are_reported_and_skipped(
    tmp_path: Path, pyproject: str, reason: str
) -> None:
    write_connector_folder(tmp_path, "connector-bad", pyproject=pyproject)
    with pytest.raises(MaxError) as caught:
        read_connector_package(tmp_path / "connector-bad")
    assert ErrConnectorPackageInvalid.matches(caught.value)
    assert caught.value.message.startswith(
        f"Invalid connector package at {tmp_path}/connector-bad: "
    )
    assert reason in caught.value.message
    registry = ConnectorRegistry()
    assert registry.add_directory(tmp_path) == 0
    assert registry.warnings == [caught.value.message]


def test_a_folder_module_must_come_from_the_folder(tmp_path: Path) -> None:
    pyproject = """
        [project]
        name = "shadow"
        [project.entry-points."maxtrio.connectors"]
        notes = "json:connector"
    """
    write_connector_folder(tmp_path, "connector-shadow", pyproject=pyproject)
    registry = ConnectorRegistry()
    registry.add_directory(tmp_path)
    with pytest.raises(MaxError) as caught:
        registry.resolve("notes")
    assert ErrConnectorModuleInvalid.matches(caught.value)
    assert "module 'json' is imported from" in caught.value.message


def test_a_folder_module_without_the_attribute_or_with_an_import_error(tmp_path: Path) -> None:
    write_connector_folder(tmp_path / "a", "connector-notes", source="# empty module\n")
    registry = ConnectorRegistry()
    registry.add_directory(tmp_path / "a")
    with pytest.raises(MaxError) as caught:
        registry.resolve("notes")
    assert ErrConnectorModuleInvalid.matches(caught.value)
    assert "has no attribute 'connector'" in caught.value.message

    write_connector_folder(
        tmp_path / "b", "connector-notes", source="import no_such_dependency_xyz\n"
    )
    registry = ConnectorRegistry()
    registry.add_directory(tmp_path / "b")
    with pytest.raises(MaxError) as caught:
        registry.resolve("notes")
    assert ErrConnectorNotInstalled.matches(caught.value)
    assert caught.value.cause is not None
    assert "no_such_dependency_xyz" in caught.value.cause.message


def test_source_root_from_the_tool_table(tmp_path: Path) -> None:
    root = tmp_path / "connector-flat"
    module = f"flat_connector_{uuid.uuid4().hex[:10]}"
    (root / "lib" / module).mkdir(parents=True)
    (root / "lib" / module / "__init__.py").write_text(CONNECTOR_SOURCE.format(name="flat"))
    (root / "pyproject.toml").write_text(
        f'[project]\nname = "flat"\n[project.entry-points."maxtrio.connectors"]\n'
        f'flat = "{module}:connector"\n[tool.maxtrio.connector]\nsource = "lib"\n'
    )
    (package,) = read_connector_package(root)
    assert package.import_root == root / "lib"
    registry = ConnectorRegistry()
    registry.add_directory(tmp_path)
    assert registry.resolve("flat").definition.name == "flat"
