"""The registries (reference ``fs-installation-registry.test.ts``): real files,
byte-exact formats, concurrent writers in real processes, hand-edited files."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from maxtrio.core import MaxError
from maxtrio.federation import (
    DeploymentConfig,
    ErrFileInvalid,
    ErrRegistryEntryAlreadyExists,
    ErrRegistryEntryNotFound,
    FileInstallationRegistry,
    FileWorkspaceRegistry,
    InMemoryInstallationRegistry,
    InMemoryWorkspaceRegistry,
    InstallationInfo,
    InstallationSpec,
    MaxHome,
    WorkspaceInfo,
    WorkspaceSpec,
)


def installation(name: str, root: Path, **overrides: object) -> InstallationInfo:
    fields: dict[str, object] = {
        "id": f"id-{name}",
        "connector": "acme",
        "name": name,
        "connected_at": "2026-03-12T10:35:44.901Z",
        "deployment": DeploymentConfig.in_process(root / ".max" / "installations" / name),
        "locator": '{"strategy":"in-process"}',
        "spec": InstallationSpec("acme", name, {"baseUrl": "http://127.0.0.1:8080"}),
    }
    fields.update(overrides)
    return InstallationInfo(**fields)  # type: ignore[arg-type]


def workspace(name: str, root: Path, id: str | None = None) -> WorkspaceInfo:
    return WorkspaceInfo(
        id=id or f"id-{name}",
        name=name,
        connected_at="2026-03-12T10:31:07.412Z",
        config=DeploymentConfig.in_process(root / ".max"),
        spec=WorkspaceSpec(name),
    )


# -- max.json ----------------------------------------------------------------------------------


def test_add_then_get_returns_every_field(tmp_path: Path) -> None:
    registry = FileInstallationRegistry(tmp_path)
    info = installation("acme-1", tmp_path)
    registry.add(info)
    assert registry.get("id-acme-1") == info
    assert registry.find("acme-1") == info
    assert registry.find("id-acme-1") == info


def test_list_is_sorted_by_name(tmp_path: Path) -> None:
    registry = FileInstallationRegistry(tmp_path)
    for name in ("zebra", "alpha", "middle"):
        registry.add(installation(name, tmp_path))
    assert [i.name for i in registry.list()] == ["alpha", "middle", "zebra"]


def test_duplicate_name_is_rejected(tmp_path: Path) -> None:
    registry = FileInstallationRegistry(tmp_path)
    registry.add(installation("acme-1", tmp_path))
    with pytest.raises(MaxError) as info:
        registry.add(installation("acme-1", tmp_path, id="other-id"))
    assert ErrRegistryEntryAlreadyExists.matches(info.value)
    assert str(info.value) == 'Registry entry "acme-1" already exists'


def test_remove_then_get_is_none(tmp_path: Path) -> None:
    registry = FileInstallationRegistry(tmp_path)
    registry.add(installation("acme-1", tmp_path))
    removed = registry.remove("id-acme-1")
    assert removed.name == "acme-1"
    assert registry.get("id-acme-1") is None
    assert registry.list() == []


@pytest.mark.parametrize(
    "registry_of", [FileInstallationRegistry, lambda _root: InMemoryInstallationRegistry()]
)
def test_remove_unknown_is_entry_not_found(tmp_path: Path, registry_of: object) -> None:
    registry = registry_of(tmp_path)  # type: ignore[operator]
    with pytest.raises(MaxError) as info:
        registry.remove("nope")
    assert ErrRegistryEntryNotFound.matches(info.value)
    assert str(info.value) == 'installation registry entry not found: "nope"'


def test_get_unknown_and_list_of_missing_file(tmp_path: Path) -> None:
    registry = FileInstallationRegistry(tmp_path)
    assert registry.get("nope") is None
    assert registry.list() == []
    assert not (tmp_path / "max.json").exists()


def test_other_top_level_keys_survive(tmp_path: Path) -> None:
    (tmp_path / "max.json").write_text(
        json.dumps({"connectors": {"acme": "git+https://x"}, "someOtherField": [1, 2]})
    )
    FileInstallationRegistry(tmp_path).add(installation("acme-1", tmp_path))
    data = json.loads((tmp_path / "max.json").read_text())
    assert data["connectors"] == {"acme": "git+https://x"}
    assert data["someOtherField"] == [1, 2]
    assert list(data["installations"]) == ["acme-1"]


def test_the_file_is_created_when_missing(tmp_path: Path) -> None:
    FileInstallationRegistry(tmp_path).add(installation("acme-1", tmp_path))
    assert (tmp_path / "max.json").is_file()


def test_a_remote_deployment_round_trips(tmp_path: Path) -> None:
    registry = FileInstallationRegistry(tmp_path)
    remote = DeploymentConfig("remote", None, {"url": "https://max.example.com/ws/inst"})
    registry.add(installation("far", tmp_path, deployment=remote, locator='{"strategy":"remote"}'))
    assert registry.find("far").deployment == remote  # type: ignore[union-attr]
    entry = json.loads((tmp_path / "max.json").read_text())["installations"]["far"]
    assert entry["deployment"] == {"strategy": "remote", "url": "https://max.example.com/ws/inst"}


def test_on_disk_the_entry_is_exactly_as_given(tmp_path: Path) -> None:
    """Byte-exact with the reference: 2-space indent, its key order, a relative dataDir,
    the locator as a JSON string, a trailing newline."""
    info = InstallationInfo(
        id="5f3c2a9e-1d7b-4c61-8e0f-7a2b9c4d1e55",
        connector="acme",
        name="acme-1",
        connected_at="2026-03-12T10:35:44.901Z",
        deployment=DeploymentConfig.in_process(tmp_path / ".max" / "installations" / "acme-1"),
        locator='{"strategy":"in-process"}',
        spec=InstallationSpec(
            "acme", "acme-1", {"baseUrl": "http://127.0.0.1:8080", "workspaceId": "ws-1"}
        ),
    )
    FileInstallationRegistry(tmp_path).add(info)
    assert (tmp_path / "max.json").read_text() == textwrap.dedent(
        """\
        {
          "installations": {
            "acme-1": {
              "id": "5f3c2a9e-1d7b-4c61-8e0f-7a2b9c4d1e55",
              "connector": "acme",
              "connectedAt": "2026-03-12T10:35:44.901Z",
              "deployment": {
                "strategy": "in-process",
                "dataDir": ".max/installations/acme-1"
              },
              "locator": "{\\"strategy\\":\\"in-process\\"}",
              "spec": {
                "connector": "acme",
                "name": "acme-1",
                "connectorConfig": {
                  "baseUrl": "http://127.0.0.1:8080",
                  "workspaceId": "ws-1"
                }
              }
            }
          }
        }
        """
    )


REFERENCE_MAX_JSON = """{
  "installations": {
    "acme-1": {
      "id": "5f3c2a9e-1d7b-4c61-8e0f-7a2b9c4d1e55",
      "connector": "@max/connector-acme",
      "connectedAt": "2026-03-12T10:35:44.901Z",
      "deployment": { "strategy": "in-process", "dataDir": ".max/installations/acme-1" },
      "locator": "{\\"strategy\\":\\"in-process\\"}",
      "spec": {
        "connector": "@max/connector-acme",
        "name": "acme-1",
        "connectorConfig": { "baseUrl": "http://127.0.0.1:8080", "workspaceId": "ws-1" }
      }
    }
  }
}
"""


def test_reads_a_reference_written_max_json(tmp_path: Path) -> None:
    (tmp_path / "max.json").write_text(REFERENCE_MAX_JSON)
    (info,) = FileInstallationRegistry(tmp_path).list()
    assert info.connector == "@max/connector-acme"
    assert info.data_dir == tmp_path / ".max" / "installations" / "acme-1"
    assert info.config == {"baseUrl": "http://127.0.0.1:8080", "workspaceId": "ws-1"}


@pytest.mark.parametrize("missing", ["spec", "deployment", "locator"])
def test_an_entry_lacking_a_key_is_one_line_naming_file_and_entry(
    tmp_path: Path, missing: str
) -> None:
    data = json.loads(REFERENCE_MAX_JSON)
    del data["installations"]["acme-1"][missing]
    (tmp_path / "max.json").write_text(json.dumps(data))
    with pytest.raises(MaxError) as info:
        FileInstallationRegistry(tmp_path).list()
    assert ErrFileInvalid.matches(info.value)
    assert str(info.value) == (
        f'Invalid file {tmp_path / "max.json"} — installations["acme-1"] is malformed: '
        f"expected at least the keys [spec,deployment,locator], missing {missing}"
    )


@pytest.mark.parametrize(
    ("edit", "problem"),
    [
        (lambda d: d.update(installations=[]), '"installations" must be an object'),
        (
            lambda d: d["installations"].update({"../evil": {}}),
            'installation name "../evil": use letters, digits',
        ),
        (
            lambda d: d["installations"]["acme-1"].update(spec="x"),
            'installations["acme-1"]: spec: expected an object',
        ),
        (
            lambda d: d["installations"]["acme-1"]["deployment"].pop("dataDir"),
            'installations["acme-1"]: deployment: an in-process deployment needs a "dataDir"',
        ),
        (
            lambda d: d["installations"]["acme-1"]["spec"].update(connectorConfig="x"),
            'installations["acme-1"]: spec.connectorConfig: expected an object',
        ),
        (
            lambda d: d["installations"].update({"x": "not an object"}),
            'installations["x"] must be an object',
        ),
    ],
)
def test_hand_edited_entries_are_one_line_errors(
    tmp_path: Path, edit: object, problem: str
) -> None:
    data = json.loads(REFERENCE_MAX_JSON)
    edit(data)  # type: ignore[operator]
    (tmp_path / "max.json").write_text(json.dumps(data))
    with pytest.raises(MaxError) as info:
        FileInstallationRegistry(tmp_path).list()
    message = str(info.value)
    assert message.startswith(f"Invalid file {tmp_path / 'max.json'} — {problem}")
    assert "\n" not in message


def test_a_failed_prepare_adds_nothing(tmp_path: Path) -> None:
    registry = FileInstallationRegistry(tmp_path)

    def prepare() -> None:
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        registry.add(installation("acme-1", tmp_path), prepare=prepare)
    assert registry.list() == []


ADD_MANY = """
import sys
from pathlib import Path
from maxtrio.federation import (
    DeploymentConfig, FileInstallationRegistry, InstallationInfo, InstallationSpec)
root, worker, count = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
registry = FileInstallationRegistry(root)
for n in range(count):
    name = f"w{worker}-{n}"
    registry.add(InstallationInfo(
        id=f"id-{name}", connector="acme", name=name, connected_at="2026-01-01T00:00:00.000Z",
        deployment=DeploymentConfig.in_process(root / ".max" / "installations" / name),
        locator='{"strategy":"in-process"}', spec=InstallationSpec("acme", name, {})))
"""


def test_concurrent_writers_in_real_processes_lose_nothing(tmp_path: Path) -> None:
    (tmp_path / ".max").mkdir()
    procs = [
        subprocess.Popen([sys.executable, "-c", ADD_MANY, str(tmp_path), str(w), "15"])
        for w in range(4)
    ]
    assert [p.wait(timeout=60) for p in procs] == [0, 0, 0, 0]
    names = {i.name for i in FileInstallationRegistry(tmp_path).list()}
    assert names == {f"w{w}-{n}" for w in range(4) for n in range(15)}


# -- workspaces.json ---------------------------------------------------------------------------


def test_workspaces_json_is_byte_compatible(home: MaxHome, tmp_path: Path) -> None:
    root = tmp_path / "my-project"
    FileWorkspaceRegistry(home).add(
        workspace("my-project", root, id="0b7d4c1e-5f0a-4f7e-9a35-2f5d8e1c9b11")
    )
    assert home.workspaces_file.read_text() == textwrap.dedent(
        f"""\
        {{
          "workspaces": [
            {{
              "id": "0b7d4c1e-5f0a-4f7e-9a35-2f5d8e1c9b11",
              "name": "my-project",
              "connectedAt": "2026-03-12T10:31:07.412Z",
              "config": {{
                "strategy": "in-process",
                "dataDir": "{root}/.max"
              }},
              "spec": {{
                "name": "my-project"
              }}
            }}
          ]
        }}
        """
    )
    assert home.root.stat().st_mode & 0o777 == 0o700
    assert home.workspaces_file.stat().st_mode & 0o777 == 0o600


def test_reads_the_reference_example(home: MaxHome) -> None:
    home.ensure()
    home.workspaces_file.write_text(
        """{
  "workspaces": [
    {
      "id": "0b7d4c1e-5f0a-4f7e-9a35-2f5d8e1c9b11",
      "name": "my-project",
      "connectedAt": "2026-03-12T10:31:07.412Z",
      "config": { "strategy": "in-process", "dataDir": "/home/me/projects/my-project/.max" },
      "spec": { "name": "my-project" }
    }
  ]
}
"""
    )
    (info,) = FileWorkspaceRegistry(home).list()
    assert info.root == Path("/home/me/projects/my-project")
    assert info.data_dir == Path("/home/me/projects/my-project/.max")


@pytest.mark.parametrize(
    "registry_of", [FileWorkspaceRegistry, lambda _home: InMemoryWorkspaceRegistry()]
)
def test_workspace_registry_rules(home: MaxHome, tmp_path: Path, registry_of: object) -> None:
    registry = registry_of(home)  # type: ignore[operator]
    registry.add(workspace("zeta", tmp_path / "zeta"))
    registry.add(workspace("alpha", tmp_path / "alpha"))
    assert [w.name for w in registry.list()] == ["alpha", "zeta"]
    assert registry.find("alpha").id == "id-alpha"
    assert registry.find("id-zeta").name == "zeta"
    assert registry.get("id-alpha").name == "alpha"
    # the same name replaces (the new id wins)
    registry.add(workspace("alpha", tmp_path / "elsewhere", id="id-new"))
    assert registry.find("alpha").root == tmp_path / "elsewhere"
    assert registry.get("id-alpha") is None
    # a known id under another name is an error
    with pytest.raises(MaxError) as info:
        registry.add(workspace("other", tmp_path / "o", id="id-zeta"))
    assert ErrRegistryEntryAlreadyExists.matches(info.value)
    assert registry.remove("id-zeta").name == "zeta"
    with pytest.raises(MaxError, match='workspace registry entry not found: "id-zeta"'):
        registry.remove("id-zeta")


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ('{"workspaces": {}}', '"workspaces" must be an array'),
        ('{"workspaces": [{"id": "x"}]}', "workspaces[0]: name: required field missing"),
        (
            '{"workspaces": [{"id": "x", "name": "n", "connectedAt": "t", '
            '"config": {"strategy": "in-process", "dataDir": "rel/.max"}, "spec": {"name": "n"}}]}',
            "workspaces[0].config.dataDir must be an absolute path",
        ),
        ("{oops", "not valid JSON"),
    ],
)
def test_a_corrupt_workspaces_json(home: MaxHome, content: str, problem: str) -> None:
    home.ensure()
    home.workspaces_file.write_text(content)
    with pytest.raises(MaxError) as info:
        FileWorkspaceRegistry(home).list()
    assert str(info.value).startswith(f"Invalid file {home.workspaces_file} — {problem}")
    assert "\n" not in str(info.value)


ADD_WORKSPACES = """
import sys
from pathlib import Path
from maxtrio.federation import (
    DeploymentConfig, FileWorkspaceRegistry, MaxHome, WorkspaceInfo, WorkspaceSpec)
worker, count = sys.argv[1], int(sys.argv[2])
registry = FileWorkspaceRegistry(MaxHome.from_env())
for n in range(count):
    name = f"w{worker}-{n}"
    registry.add(WorkspaceInfo(id=f"id-{name}", name=name, connected_at="t",
        config=DeploymentConfig.in_process(f"/tmp/{name}/.max"), spec=WorkspaceSpec(name)))
"""


def test_concurrent_workspace_registrations_lose_nothing(home: MaxHome) -> None:
    procs = [
        subprocess.Popen([sys.executable, "-c", ADD_WORKSPACES, str(w), "15"]) for w in range(4)
    ]
    assert [p.wait(timeout=60) for p in procs] == [0, 0, 0, 0]
    names = {w.name for w in FileWorkspaceRegistry(home).list()}
    assert names == {f"w{w}-{n}" for w in range(4) for n in range(15)}
