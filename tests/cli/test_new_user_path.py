"""The new user's path with real ``max`` processes: init → connect (flags) → sync → search →
status → ls, in a temp directory with its own ``MAX_HOME``, against the Acme server on
loopback; then the files it left (modes, no secrets outside credentials.json)."""

from __future__ import annotations

import json
import stat
from pathlib import Path

from .conftest import SHARED_TASKS, USERS, AcmeService, connect_args, max_proc


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_from_nothing_to_answers(tmp_path: Path, acme_service: AcmeService) -> None:
    home = tmp_path / "home"
    project = tmp_path / "my-project"

    init = await max_proc("init", "my-project", cwd=tmp_path, home=home)
    assert init.code == 0, init
    assert init.out.splitlines()[:2] == [
        f"✓ Initialized Max project in {project}",
        "✓ .gitignore updated to ignore .max",
    ]
    assert "Next: cd" in init.out

    connect = await max_proc(*connect_args(acme_service), cwd=project, home=home)
    assert connect.code == 0, connect
    first = connect.out.splitlines()[0]
    assert first.startswith("Connected acme as installation acme-1 (") and first.endswith(")")
    assert connect.err == ""  # not a terminal: no onboarding conversation
    assert acme_service.api_key not in connect.out

    sync = await max_proc("sync", "acme-1", "-o", "json", cwd=project, home=home)
    assert sync.code == 0, sync
    result = json.loads(sync.out)
    assert result["status"] == "completed" and result["workUnits"]["failed"] == 0
    assert sync.err == ""  # stderr is not a terminal: no progress display at all

    search = await max_proc(
        "search", "acme-1", "AcmeTask", "--limit", "3", "--fields", "_id,title", cwd=project,
        home=home,
    )  # fmt: skip
    assert search.code == 0, search
    out = search.out.splitlines()
    assert out[0] == "AcmeTask: 3 results, more available"
    assert out[2].split() == ["_id", "title"] and len(out) == 9
    assert out[-2].startswith("Next page: --after ein:AcmeTask:")

    count = await max_proc(
        "search", "acme-1", "AcmeTask", "--all", "-o", "ndjson", "--fields", "_id", cwd=project,
        home=home,
    )  # fmt: skip
    assert len(count.out.splitlines()) == SHARED_TASKS

    status = await max_proc("status", cwd=project, home=home)
    assert status.code == 0, status
    assert status.out.splitlines()[:4] == [
        "Node: max://@/my-project  [workspace]",
        "",
        "  Status:         ● healthy",
        "  Installations:  1",
    ]
    assert "acme-1" in status.out and "(sync-1 completed, " in status.out

    bare = await max_proc(cwd=project, home=home)  # bare max is max status
    assert bare.out == status.out

    ls = await max_proc("ls", cwd=project, home=home)
    assert ls.out.splitlines()[2:] == [
        "Installations:",
        "",
        "  NAME    URL                        STATUS   ",
        "  acme-1  max://@/my-project/acme-1  ● healthy",
    ]
    users = await max_proc(
        "-g", "search", "my-project/acme-1", "AcmeUser", "-o", "json", cwd=tmp_path, home=home
    )
    assert len(json.loads(users.out)["data"]) == USERS + 1  # + the ghost (system) user

    # -- what is on disk ------------------------------------------------------------------
    credentials = project / ".max" / "installations" / "acme-1" / "credentials.json"
    assert _mode(credentials) == 0o600
    # byte-compatible with the reference: 2-space indent, no trailing newline
    assert credentials.read_text() == f'{{\n  "api_token": "{acme_service.api_key}"\n}}'

    for directory in (home, project / ".max", credentials.parent):
        assert _mode(directory) == 0o700, directory
    assert (credentials.parent / "data.db").is_file()
    max_json = (project / "max.json").read_text()
    assert acme_service.api_key not in max_json
    assert max_json.startswith('{\n  "installations": {\n    "acme-1": {\n      "id": "')
    assert max_json.endswith("}\n")
    entry = json.loads(max_json)["installations"]["acme-1"]
    assert entry["connector"] == "acme"
    assert entry["spec"]["connectorConfig"]["baseUrl"] == acme_service.url
    registry = json.loads((home / "workspaces.json").read_text())
    assert [w["name"] for w in registry["workspaces"]] == ["my-project"]
    assert ".max" in (project / ".gitignore").read_text().splitlines()
