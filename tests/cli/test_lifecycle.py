"""An installation's life after ``max connect``, through the real ``max`` in subprocesses:
``max disconnect`` (confirmation on a terminal, ``--keep-data``, refused while a sync runs),
``max connect <inst> --update`` (config changes, a real credential rotation, keys checked
against the connector), the hint on a taken name, and one sync per installation at a time —
a second ``max sync`` process fails at once without disturbing the first, and a ``kill -9``-ed
sync leaves no stale lock."""

from __future__ import annotations

import json
import os
import signal
import stat
import time
from collections.abc import AsyncIterator
from pathlib import Path

import attrs
import pytest
import trio

from maxtrio.acme import AcmeServer, FaultInjection, SeedOptions, Tenant, serve_acme
from maxtrio.federation import SYNC_LOCK_FILE_NAME
from tests.terminal import Terminal

from .conftest import MAX, Result, assert_one_line_error, max_env, max_proc, spawn_max

#: Latency of the slow server: a full sync of the small tenant takes several round trips of
#: this, long enough for a second ``max`` process to start while the first syncs.
SLOW_MS = 1500


@attrs.frozen
class Project:
    home: Path
    root: Path
    server: AcmeServer
    tenant: Tenant

    @property
    def data_dir(self) -> Path:
        return self.root / ".max" / "installations" / "acme-1"

    async def max(self, *args: str, stdin: bytes | None = None) -> Result:
        return await max_proc(*args, cwd=self.root, home=self.home, stdin=stdin)


@pytest.fixture
async def project(tmp_path: Path, nursery: trio.Nursery) -> AsyncIterator[Project]:
    """A workspace with ``acme-1`` connected to an Acme server in this test's nursery."""
    with Tenant.in_memory() as tenant:
        tenant.seed(SeedOptions(tasks_per_project=3, files_per_project=0))
        server: AcmeServer = await nursery.start(serve_acme, tenant)
        home, root = tmp_path / "home", tmp_path / "proj"
        assert (await max_proc("init", str(root), cwd=tmp_path, home=home)).code == 0
        created = Project(home, root, server, tenant)
        connected = await created.max(
            "connect",
            "acme",
            "--config",
            f"baseUrl={server.url}",
            "--credential",
            f"api_token={server.api_key}",
        )
        assert connected.code == 0, connected
        yield created
        nursery.cancel_scope.cancel()


def _installations(project: Project) -> dict[str, object]:
    document = json.loads((project.root / "max.json").read_text())
    installations = document["installations"]
    assert isinstance(installations, dict)
    return installations


# -- max disconnect ----------------------------------------------------------------------------


async def test_disconnect_removes_the_entry_the_credentials_and_the_data(project: Project) -> None:
    assert (await project.max("sync", "acme-1")).code == 0
    assert (project.data_dir / "data.db").exists()
    result = await project.max("disconnect", "acme-1")
    assert result.code == 0, result
    assert result.out == (
        f"Disconnected acme-1 (acme): credentials and data deleted ({project.data_dir})\n"
    )
    assert _installations(project) == {}
    assert not project.data_dir.exists()
    assert project.server.api_key not in result.out + result.err
    gone = await project.max("disconnect", "acme-1")
    assert_one_line_error(gone, contains="Installation not found: acme-1")
    assert "Hint: max ls lists the installations" in gone.err


async def test_disconnect_keep_data_and_connect_again(project: Project) -> None:
    assert (await project.max("sync", "acme-1")).code == 0
    result = await project.max("disconnect", "acme-1", "--keep-data", "-o", "json")
    assert result.code == 0, result
    document = json.loads(result.out)
    assert document == {
        "name": "acme-1",
        "id": document["id"],
        "connector": "acme",
        "dataDir": str(project.data_dir),
        "credentialsRemoved": True,
        "dataRemoved": False,
        "url": f"max://@/{project.root.name}/acme-1",
    }
    assert _installations(project) == {}
    assert (project.data_dir / "data.db").exists()
    assert not (project.data_dir / "credentials.json").exists()
    again = await project.max(
        "connect",
        "acme",
        "-n",
        "acme-1",
        "--config",
        f"baseUrl={project.server.url}",
        "--credential",
        f"api_token={project.server.api_key}",
    )
    assert again.code == 0, again
    status = await project.max("-t", "acme-1", "status", "-o", "json")
    assert json.loads(status.out)["lastSync"]["status"] == "completed"  # the kept data.db


def _confirm(project: Project, answer: str) -> tuple[int, str]:
    with Terminal(
        [MAX, "disconnect", "acme-1"], cwd=project.root, env=max_env(project.home)
    ) as terminal:
        terminal.expect("[y/N] ")
        terminal.send(answer + "\n")
        code = terminal.finish()
        return code, terminal.text()


async def test_disconnect_asks_a_person_at_a_terminal(project: Project) -> None:
    code, transcript = await trio.to_thread.run_sync(_confirm, project, "n")
    assert code == 1, transcript
    question = f"Disconnect acme-1 (acme) and delete its credentials and data ({project.data_dir})?"
    assert question in transcript
    assert ": Not confirmed — disconnect acme-1 was cancelled" in transcript  # "Error" coloured
    assert "Hint: nothing was changed; --yes skips the question" in transcript
    assert "acme-1" in _installations(project)
    assert (project.data_dir / "credentials.json").exists()
    code, transcript = await trio.to_thread.run_sync(_confirm, project, "y")
    assert code == 0, transcript
    assert "Disconnected acme-1 (acme)" in transcript
    assert _installations(project) == {}


async def test_disconnect_elsewhere_says_where_it_runs(project: Project) -> None:
    result = await max_proc("disconnect", "acme-1", cwd=project.root.parent, home=project.home)
    assert result.code == 2
    assert result.err.splitlines() == [
        "Error: disconnect is not available at the global level.",
        "  Try: max -t <workspace> disconnect",
    ]


# -- max connect --update ------------------------------------------------------------------------


async def test_a_taken_name_says_what_to_do(project: Project) -> None:
    result = await project.max("connect", "acme", "-n", "acme-1")
    assert_one_line_error(result, contains='Installation "acme:acme-1" already exists')
    assert result.err.splitlines()[1] == (
        "  Hint: change it with max connect acme-1 --update --config KEY=VALUE "
        "(or --credential NAME=VALUE), remove it with max disconnect acme-1, "
        "or choose another --name"
    )


async def test_update_rotates_a_credential(project: Project) -> None:
    old = project.server.api_key
    new = project.tenant.rotate_api_key()
    broken = await project.max("sync", "acme-1")
    assert broken.code != 0  # the old key is rejected now
    credentials = project.data_dir / "credentials.json"
    wrong = await project.max("connect", "acme-1", "--update", "--credential", "api_token=nope")
    assert_one_line_error(wrong, contains="Verify credentials — ")
    assert json.loads(credentials.read_text()) == {"api_token": old}  # nothing written
    token_file = project.root / "token.txt"
    token_file.write_text(new + "\n")
    result = await project.max(
        "connect", "acme-1", "--update", "--credential", "api_token=@token.txt"
    )
    assert result.code == 0, result
    assert result.out == "Updated acme-1 (acme): credentials api_token (rotated)\n"
    assert new not in result.out + result.err and old not in result.out + result.err
    assert json.loads(credentials.read_text()) == {"api_token": new}
    assert stat.S_IMODE(credentials.stat().st_mode) == 0o600
    assert [p.name for p in project.data_dir.iterdir() if p.name.endswith(".tmp")] == []
    assert (await project.max("sync", "acme-1")).code == 0


async def test_update_changes_config_values(project: Project) -> None:
    host_url = project.server.url.replace("127.0.0.1", "localhost")
    result = await project.max(
        "connect", "acme-1", "--update", "--config", f"baseUrl={host_url}", "-o", "json"
    )
    assert result.code == 0, result
    document = json.loads(result.out)
    assert document["config"]["baseUrl"] == host_url
    assert document["updated"] == {"config": ["baseUrl"], "credentials": []}
    entry = _installations(project)["acme-1"]
    assert isinstance(entry, dict)
    assert entry["spec"]["connectorConfig"]["baseUrl"] == host_url
    assert project.server.api_key not in result.out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--config", "bogus=1"],
         'Unknown config key "bogus" for acme — it declares: baseUrl, workspaceId'),
        (["--credential", "password=x"],
         'Unknown credential "password" for acme — it declares: api_token'),
        ([], "Nothing to update for acme-1"),
        (["--config", "baseUrl=ftp://x"], "baseUrl"),
    ],
)  # fmt: skip
async def test_update_checks_keys_and_values_first(
    project: Project, args: list[str], message: str
) -> None:
    before = (project.root / "max.json").read_bytes()
    result = await project.max("connect", "acme-1", "--update", *args)
    assert_one_line_error(result, contains=message)
    assert (project.root / "max.json").read_bytes() == before


async def test_update_of_an_unknown_installation(project: Project) -> None:
    result = await project.max("connect", "acme", "--update", "--config", "baseUrl=http://x")
    assert_one_line_error(result, contains="Installation not found: acme")
    assert "Hint: --update changes an installation of this workspace: give its name" in result.err


# -- one sync at a time -------------------------------------------------------------------------


async def _wait_for_lock(project: Project, pid: int) -> str:
    """The sync id the process ``pid`` recorded in the lock file (polled with a deadline)."""
    lock = project.data_dir / SYNC_LOCK_FILE_NAME
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            holder = json.loads(lock.read_text() or "{}")
        except (FileNotFoundError, ValueError):
            holder = {}
        if holder.get("pid") == pid and holder.get("syncId"):
            return str(holder["syncId"])
        await trio.sleep(0.05)
    raise AssertionError(f"process {pid} did not take the sync lock")


async def _finish(process: trio.Process) -> tuple[int, str, str]:
    assert process.stdout is not None and process.stderr is not None
    out, err = b"", b""
    with trio.fail_after(120):
        async with process.stdout, process.stderr:
            async for chunk in process.stdout:
                out += chunk
            async for chunk in process.stderr:
                err += chunk
        code = await process.wait()
    return code, out.decode(), err.decode()


async def test_a_second_sync_fails_at_once_and_the_first_finishes(project: Project) -> None:
    project.server.faults = FaultInjection(latency_ms=SLOW_MS)
    first = await spawn_max("sync", "acme-1", "-o", "json", cwd=project.root, home=project.home)
    sync_id = await _wait_for_lock(project, first.pid)
    second = await project.max("sync", "acme-1")
    assert second.code == 1 and second.out == ""
    target = f"max -t {project.root.name}/acme-1"
    assert second.err.splitlines() == [
        f"Error: a sync of acme-1 is already running: {sync_id}",
        f"  Hint: no command attaches to a running sync: follow it with {target} status; "
        f"if it stops before the end, {target} sync --resume {sync_id} continues it",
    ]
    busy = await project.max("disconnect", "acme-1", "--yes")
    assert_one_line_error(busy, contains=f"Cannot disconnect acme-1 now — {sync_id} is running")
    update = await project.max("connect", "acme-1", "--update", "--config", "baseUrl=http://x")
    assert_one_line_error(update, contains=f"Cannot update acme-1 now — {sync_id} is running")
    code, out, err = await _finish(first)
    assert code == 0, err
    result = json.loads(out)
    assert (result["syncId"], result["status"]) == (sync_id, "completed")
    assert result["workUnits"]["failed"] == 0
    history = await project.max("-t", "acme-1", "status", "-o", "json")
    assert json.loads(history.out)["lastSync"]["syncId"] == sync_id  # the refused one left no trace


async def test_a_killed_sync_leaves_no_stale_lock(project: Project) -> None:
    project.server.faults = FaultInjection(latency_ms=SLOW_MS)
    first = await spawn_max("sync", "acme-1", cwd=project.root, home=project.home)
    await _wait_for_lock(project, first.pid)
    os.kill(first.pid, signal.SIGKILL)
    assert await _finish(first) == (-signal.SIGKILL, "", "")
    project.server.faults = FaultInjection()
    # the kernel released the lock with the process: the next sync runs (nothing to clean up)
    again = await project.max("sync", "acme-1", "-o", "json")
    assert again.code == 0, again
    assert json.loads(again.out)["status"] == "completed"
    holder = json.loads((project.data_dir / SYNC_LOCK_FILE_NAME).read_text())
    assert holder["operation"] == "sync" and holder["pid"] != first.pid  # the new holder
