"""Two workspaces, each with an installation named ``acme-1`` on a different Acme tenant: names,
files and data stay apart, and every way of targeting reaches the right one."""

from __future__ import annotations

import json
from pathlib import Path

import trio

from maxtrio.acme import AcmeServer, SeedOptions, Tenant, serve_acme

from .conftest import AcmeService, invoke


def _ids(output: str) -> set[str]:
    return {json.loads(line)["_id"] for line in output.splitlines()}


async def test_same_installation_names_are_kept_apart(
    tmp_path: Path, acme_service: AcmeService, nursery: trio.Nursery
) -> None:
    with Tenant.in_memory() as other_tenant:
        other_tenant.seed(SeedOptions(users_per_workspace=3, global_seed=7, files_per_project=0))
        other: AcmeServer = await nursery.start(serve_acme, other_tenant)
        servers = {
            "alpha": (acme_service.url, acme_service.api_key),
            "beta": (other.url, other.api_key),
        }
        for name, (url, key) in servers.items():
            root = tmp_path / name
            assert (await invoke("init", str(root), cwd=tmp_path)).code == 0
            connected = await invoke(
                "connect", "acme", "--config", f"baseUrl={url}", "--credential", f"api_token={key}",
                cwd=root,
            )  # fmt: skip
            assert connected.code == 0 and "installation acme-1 (" in connected.out
            assert (await invoke("sync", "acme-1", cwd=root)).code == 0

        alpha = await invoke("-g", "search", "alpha/acme-1", "AcmeUser", "--all", "-o", "ndjson")
        beta = await invoke("-g", "search", "beta/acme-1", "AcmeUser", "--all", "-o", "ndjson")
        assert alpha.code == beta.code == 0
        assert _ids(alpha.out) and _ids(beta.out) and not _ids(alpha.out) & _ids(beta.out)
        assert len(_ids(beta.out)) == 4  # 3 users + the ghost user of the second tenant

        # the same search from inside each project, and by URL, agrees
        inside = await invoke(
            "search", "acme-1", "AcmeUser", "--all", "-o", "ndjson", cwd=tmp_path / "beta"
        )
        by_url = await invoke(
            "-t", "max://@/beta/acme-1", "search", "AcmeUser", "--all", "-o", "ndjson"
        )
        assert _ids(inside.out) == _ids(by_url.out) == _ids(beta.out)

        # each project's files hold only its own installation
        for name, (url, _) in servers.items():
            entry = json.loads((tmp_path / name / "max.json").read_text())["installations"]
            assert list(entry) == ["acme-1"]
            assert entry["acme-1"]["spec"]["connectorConfig"]["baseUrl"] == url
            assert entry["acme-1"]["deployment"]["dataDir"] == ".max/installations/acme-1"
        ids = {
            json.loads((tmp_path / n / "max.json").read_text())["installations"]["acme-1"]["id"]
            for n in servers
        }
        assert len(ids) == 2

        listing = json.loads((await invoke("-g", "ls", "-o", "json")).out)
        assert [w["name"] for w in listing["workspaces"]] == ["alpha", "beta"]
        nursery.cancel_scope.cancel()
