"""The remote deployer with real processes on loopback: a synced workspace served by
``max serve`` (its own ``MAX_HOME``), and a second machine (another ``MAX_HOME``) whose own
workspace federates one of its installations with ``max connect --remote … --name far``.

Proves: the connection is verified before anything is written (and the token never shown),
commands aimed at the federated installation run on the remote node and print what it prints
(through the launcher, and through the full CLI with ``--direct``), ``max sync far`` syncs
there, and ``max status`` / ``max ls`` show its health — an unreachable node as one line.
"""

from __future__ import annotations

import json
import stat
from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest

from tests.cli.conftest import Result, max_sync_run
from tests.cli.serving import Server, one_error_line, serving, start_server
from tests.daemon.conftest import Acme

from .nodes import synced_workspace


@attrs.frozen
class Served:
    server: Server
    root: Path
    home: Path

    def remote(self, *args: str) -> Result:
        """``args`` run against the served installation with a ``-t max+http://…`` target."""
        return max_sync_run(
            "-t", f"{self.server.url}/acme-1", *args, cwd=self.root, home=self.home,
            env_extra={"MAX_TOKEN": self.server.token},
        )  # fmt: skip


@attrs.frozen
class Machine:
    """The second machine: its MAX_HOME and its workspace ``here`` (cwd: the workspace)."""

    home: Path
    root: Path

    def max(self, *args: str, **env: str) -> Result:
        return max_sync_run(*args, cwd=self.root, home=self.home, env_extra=env)

    def installations(self) -> dict[str, dict[str, object]]:
        document = json.loads((self.root / "max.json").read_text())
        entries = document.get("installations", {})
        assert isinstance(entries, dict)
        return entries


@pytest.fixture(scope="module")
def served(acme: Acme, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    base = tmp_path_factory.mktemp("remote-node")
    home, root = synced_workspace(base, acme)
    for server in serving(root, home, base / "serve.log"):
        yield Served(server, root, home)


@pytest.fixture
def machine(tmp_path: Path) -> Machine:
    home, root = tmp_path / "client-home", tmp_path / "here"
    assert max_sync_run("init", str(root), cwd=tmp_path, home=home).code == 0
    return Machine(home, root)


def token_file(served: Served, directory: Path) -> Path:
    path = directory / "team.token"
    path.write_text(served.server.token + "\n")
    return path


def connect_far(served: Served, machine: Machine, tmp_path: Path) -> Result:
    url = f"{served.server.url}/acme-1"
    tokens = str(token_file(served, tmp_path))
    return machine.max("connect", "--remote", url, "--name", "far", "--token-file", tokens)


def test_connect_remote_verifies_then_records_the_url_and_a_private_token(
    served: Served, machine: Machine, tmp_path: Path
) -> None:
    result = connect_far(served, machine, tmp_path)
    assert result.code == 0, result
    url = f"{served.server.url}/acme-1"
    assert result.out.splitlines()[0].startswith(f"Connected {url} as installation far (acme, ")
    entry = machine.installations()["far"]
    assert entry["connector"] == "acme"
    assert entry["deployment"] == {
        "strategy": "remote",
        "dataDir": ".max/installations/far",
        "url": url,
    }
    token = machine.root / ".max" / "installations" / "far" / "remote-token"
    assert token.read_text().strip() == served.server.token
    assert stat.S_IMODE(token.stat().st_mode) == 0o600
    assert served.server.token not in result.out + result.err
    assert served.server.token not in (machine.root / "max.json").read_text()
    gone = machine.max("disconnect", "far", "-y")  # as any installation: entry and files go
    assert gone.code == 0, gone
    assert machine.installations() == {} and not token.exists()


def test_a_connection_that_does_not_verify_writes_nothing(
    served: Served, machine: Machine, tmp_path: Path
) -> None:
    url = served.server.url
    tokens = str(token_file(served, tmp_path))
    cases = [
        (["--remote", f"{url}/nope", "--token-file", tokens],
         f'Error: {url}/nope serves no installation "nope" (it has: acme-1)'),
        (["--remote", f"{url}/acme-1"],
         f"Error: Unauthorized by {url}/acme-1 — no token was sent"),
        (["--remote", f"{url}/acme-1"],
         f"Error: Unauthorized by {url}/acme-1 — the token was refused"),
        (["--remote", "max+http://127.0.0.1:9/team/acme-1", "--token-file", tokens],
         "Error: Cannot reach max+http://127.0.0.1:9/team/acme-1 — connection refused"),
        (["--remote", url, "--token-file", tokens],
         f'Error: "{url}" is not the URL of a remote installation — it names no installation'),
    ]  # fmt: skip
    for index, (args, line) in enumerate(cases):
        env = {"MAX_TOKEN": "not-the-token-at-all"} if index == 2 else {}
        result = machine.max("connect", *args, "--name", "far", **env)
        assert result.code == 1, result
        assert one_error_line(result.err).startswith(line), result.err
        assert served.server.token not in result.err
    assert machine.installations() == {}
    assert not (machine.root / ".max" / "installations" / "far").exists()


def test_commands_for_the_federated_installation_run_on_the_remote_node(
    served: Served, machine: Machine, tmp_path: Path
) -> None:
    assert connect_far(served, machine, tmp_path).code == 0
    search = ("search", "AcmeTask", "--limit", "7", "--order-by", "title", "-o", "json")
    there = served.remote(*search)
    assert there.code == 0, there
    for args in (
        ("-t", "here/far", *search),  # the workspace/installation path
        ("-t", "far", *search),  # an installation of this workspace
        ("search", "far", *search[1:]),  # the workspace-level form
        ("--direct", "-t", "here/far", *search),  # the full CLI forwards it too
    ):
        result = machine.max(*args)
        assert (result.code, result.err) == (0, ""), (args, result)
        assert result.out == there.out, args
    schema = machine.max("-t", "here/far", "schema", "-o", "json")
    assert schema.code == 0 and schema.out == served.remote("schema", "-o", "json").out
    assert "POST /cli/stream search started" in served.server.log_text()
    assert "WS /cli search started" in served.server.log_text()


def test_max_sync_runs_the_sync_on_the_remote_node(
    served: Served, machine: Machine, tmp_path: Path
) -> None:
    assert connect_far(served, machine, tmp_path).code == 0
    result = machine.max("sync", "far")
    assert result.code == 0, result
    assert result.out.startswith("Sync completed in "), result
    assert "/cli/stream sync started" in served.server.log_text()
    status = served.remote("status")
    assert "completed" in status.out.split("Last sync:", 1)[1].splitlines()[0], status.out


def test_status_and_ls_show_its_health_and_an_unreachable_node_is_one_line(
    served: Served, machine: Machine, tmp_path: Path
) -> None:
    assert connect_far(served, machine, tmp_path).code == 0
    other = start_server(served.root, served.home, tmp_path / "other.log")
    url = f"{other.url}/acme-1"
    tokens = str(token_file(served, tmp_path))
    try:
        gone = machine.max("connect", "--remote", url, "--name", "gone", "--token-file", tokens)
        assert gone.code == 0, gone
    finally:
        assert other.stop() == 0
    status = machine.max("status")
    assert status.code == 0, status
    assert "Traceback" not in status.err
    lines = {line.split()[0]: line for line in status.out.splitlines() if line.startswith("  ")}
    assert "● healthy" in lines["far"], status.out
    assert "● unhealthy (unreachable (connection refused))" in lines["gone"], status.out
    listed = machine.max("ls")
    assert listed.code == 0 and "Traceback" not in listed.err
    rows = {line.split()[0]: line for line in listed.out.splitlines() if "max://@/here/" in line}
    assert "● healthy" in rows["far"] and "unreachable (connection refused)" in rows["gone"]
    machines = machine.max("-g", "ls")  # the workspace: one healthy, one unreachable
    assert machines.code == 0 and "Traceback" not in machines.err
    row = next(line for line in machines.out.splitlines() if "max://@/here" in line)
    assert "● degraded" in row, machines.out
    search = machine.max("-t", "here/gone", "search", "AcmeTask")
    assert search.code == 1 and search.out == ""
    assert one_error_line(search.err) == f"Error: Cannot reach {url} — connection refused"
