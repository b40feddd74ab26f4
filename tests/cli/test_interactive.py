"""``max connect`` with a person at a terminal: a real pseudo-terminal answers the prompts; the
secret is read without echo and a required value is asked again."""

from __future__ import annotations

import json
from pathlib import Path

import trio

from tests.terminal import Terminal

from .conftest import MAX, AcmeService, max_env, max_proc


def _converse(project: Path, home: Path, acme: AcmeService) -> tuple[int, str]:
    with Terminal([MAX, "connect", "acme"], cwd=project, env=max_env(home)) as terminal:
        terminal.expect("Tenant URL: ")
        terminal.send("\n")  # required: asked again
        terminal.expect("Tenant URL: a value is required")
        terminal.expect("Tenant URL: ")
        terminal.send(f"{acme.url}\n")
        terminal.expect("api_token: ")
        terminal.send(f"{acme.api_key}\n")
        terminal.expect("Verify credentials... done")
        terminal.expect("> ")  # a person still chooses, as in the reference
        terminal.send("1\n")
        terminal.expect("Connected acme as installation acme-1 (")
        return terminal.finish(), terminal.text()


async def test_connect_asks_a_person(tmp_path: Path, acme_service: AcmeService) -> None:
    home = tmp_path / "home"
    project = tmp_path / "p"
    assert (await max_proc("init", str(project), cwd=tmp_path, home=home)).code == 0
    code, transcript = await trio.to_thread.run_sync(_converse, project, home, acme_service)
    assert code == 0, transcript
    assert "Creating new installation: acme-1 ..." in transcript
    assert "Create an API token at " in transcript
    assert acme_service.api_key not in transcript  # no echo, never printed
    credentials = project / ".max" / "installations" / "acme-1" / "credentials.json"
    assert json.loads(credentials.read_text()) == {"api_token": acme_service.api_key}
