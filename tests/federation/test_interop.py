"""Working with what others wrote: a reference checkout's project, two processes connecting
at once, injected registries (reference ``resolver-graph-injection`` / ``in-process-provider``
smoke tests)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import trio

from maxtrio.acme import AcmeServer
from maxtrio.connector import ConnectorRegistry, ErrCredentialsFileExposed
from maxtrio.connectors.acme import AcmeTask, connector
from maxtrio.core import MaxError, MaxUrl
from maxtrio.execution import SyncStatus
from maxtrio.federation import (
    DeploymentConfig,
    GlobalMax,
    InMemoryInstallationRegistry,
    InMemoryWorkspaceRegistry,
    MaxHome,
    WorkspaceInfo,
    WorkspaceMax,
    WorkspaceSpec,
    provision_workspace,
)

from .conftest import connect_acme

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
        "connectorConfig": { "baseUrl": "ACME_URL", "workspaceId": "ws-1" }
      }
    }
  },
  "connectors": { "@max/connector-acme": "git+https://example.com/c.git" }
}
"""


async def test_a_reference_written_project_opens_and_syncs(
    gmax: GlobalMax, tmp_path: Path, acme: AcmeServer
) -> None:
    """``max.json`` as the reference writes it (``@max/connector-acme``, inline objects) and a
    ``credentials.json`` without a trailing newline, left 0644 as the reference leaves it: the
    credentials are refused until ``chmod 600``; then, registered with ``init --force``, the
    installation opens through the connector alias and syncs."""
    root = tmp_path / "ref-project"
    data_dir = root / ".max" / "installations" / "acme-1"
    data_dir.mkdir(parents=True)
    (root / "max.json").write_text(REFERENCE_MAX_JSON.replace("ACME_URL", acme.url))
    credentials = data_dir / "credentials.json"
    credentials.write_text(json.dumps({"api_token": acme.api_key}, indent=2))
    credentials.chmod(0o644)
    await gmax.create_workspace(root, force=True)
    url = MaxUrl.parse("max://@/ref-project/acme-1")
    with pytest.raises(MaxError) as refused:
        await gmax.resolve(url)
    assert ErrCredentialsFileExposed.matches(refused.value)
    assert refused.value.data["hint"] == f"chmod 600 {credentials}"
    credentials.chmod(0o600)
    target = await gmax.resolve(url)
    assert target.installation is not None
    assert target.installation.connector is connector
    result = await target.installation.sync()
    assert result.status is SyncStatus.COMPLETED
    assert await target.installation.engine.count(AcmeTask) == 30
    kept = json.loads((root / "max.json").read_text())
    assert kept["connectors"] == {"@max/connector-acme": "git+https://example.com/c.git"}


CONNECT = """
import sys, trio
from maxtrio.federation import WorkspaceMax
root, url, token, prefix = sys.argv[1:5]
async def main():
    async with WorkspaceMax.open(root) as ws:
        for n in range(3):
            await ws.create_installation(
                "acme", name=f"{prefix}-{n}",
                config={"baseUrl": url, "workspaceId": "w"}, credentials={"api_token": token})
trio.run(main)
"""


async def test_two_processes_connecting_at_once_both_land(tmp_path: Path, acme: AcmeServer) -> None:
    root = tmp_path / "shared"
    provision_workspace(root)
    args = [str(root), acme.url, acme.api_key]
    procs = [
        await trio.lowlevel.open_process([sys.executable, "-c", CONNECT, *args, prefix])
        for prefix in ("a", "b")
    ]
    codes = [await p.wait() for p in procs]
    assert codes == [0, 0]
    entries = json.loads((root / "max.json").read_text())["installations"]
    assert sorted(entries) == ["a-0", "a-1", "a-2", "b-0", "b-1", "b-2"]
    for name in entries:
        assert (root / ".max" / "installations" / name / "credentials.json").is_file()


async def test_injected_registries(home: MaxHome, tmp_path: Path, acme: AcmeServer) -> None:
    """A workspace registry pre-seeded in memory is what the global lists; an injected
    connector registry is the only one used; nothing is written to ``MAX_HOME``."""
    root = tmp_path / "seeded"
    provision_workspace(root)
    seeded = WorkspaceInfo(
        "ws-1",
        "seeded",
        "2026-01-01T00:00:00.000Z",
        DeploymentConfig.in_process(root / ".max"),
        WorkspaceSpec("seeded"),
    )
    connectors = ConnectorRegistry()
    connectors.add_module(connector)
    registry = InMemoryWorkspaceRegistry([seeded])
    async with GlobalMax.open(home, connectors=connectors, registry=registry) as g:
        assert await g.list_workspaces() == [seeded]
        assert g.connectors() is connectors
        workspace = await g.workspace("ws-1")
        info = await connect_acme(workspace, acme)
        (listed,) = await workspace.list_installations()
        assert listed == info and listed.connector == "acme"
    assert not home.workspaces_file.exists()


async def test_a_workspace_on_its_own_with_an_in_memory_installation_registry(
    tmp_path: Path, acme: AcmeServer
) -> None:
    root = tmp_path / "solo"
    provision_workspace(root)
    registry = InMemoryInstallationRegistry()
    async with WorkspaceMax.open(root, registry=registry) as workspace:
        info = await connect_acme(workspace, acme)
        assert registry.list() == [info]
        node = await workspace.installation(info.name)
        assert (await node.sync()).status is SyncStatus.COMPLETED
    assert (root / "max.json").read_bytes() == b"{}"  # the injected registry, not the file
