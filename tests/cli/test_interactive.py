"""``max connect`` with a person at a terminal: a real pseudo-terminal answers the prompts; the
secret is read without echo and a required value is asked again."""

from __future__ import annotations

import json
import os
import pty
import select
import time
from pathlib import Path

import trio

from .conftest import MAX, AcmeService, max_env, max_proc


class Terminal:
    """``max ARGS`` on a pseudo-terminal (its controlling terminal, so getpass works)."""

    def __init__(self, args: list[str], cwd: Path, env: dict[str, str]) -> None:
        self.transcript = b""
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child: exec at once
            os.chdir(cwd)
            os.execve(MAX, [MAX, *args], env)

    def expect(self, marker: bytes, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while marker not in self.transcript:
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"no {marker!r} in {self.transcript!r}"
            ready, _, _ = select.select([self.fd], [], [], min(remaining, 0.2))
            if ready:
                try:
                    self.transcript += os.read(self.fd, 4096)
                except OSError:  # EIO: the child closed the terminal
                    assert marker in self.transcript, self.transcript
                    return

    def send(self, line: str) -> None:
        os.write(self.fd, f"{line}\n".encode())

    def wait(self) -> int:
        try:
            while True:
                ready, _, _ = select.select([self.fd], [], [], 0.2)
                if not ready:
                    break
                chunk = os.read(self.fd, 4096)
                if not chunk:
                    break
                self.transcript += chunk
        except OSError:
            pass
        _, status = os.waitpid(self.pid, 0)
        os.close(self.fd)
        return os.waitstatus_to_exitcode(status)


def _converse(project: Path, home: Path, acme: AcmeService) -> tuple[int, str]:
    terminal = Terminal(["connect", "acme"], project, max_env(home))
    terminal.expect(b"Tenant URL: ")
    terminal.send("")  # required: asked again
    terminal.expect(b"Tenant URL: a value is required")
    terminal.expect(b"Tenant URL: ")
    terminal.send(acme.url)
    terminal.expect(b"api_token: ")
    terminal.send(acme.api_key)
    terminal.expect(b"Verify credentials... done")
    terminal.expect(b"> ")  # a person still chooses, as in the reference
    terminal.send("1")
    terminal.expect(b"Connected acme as installation acme-1 (")
    return terminal.wait(), terminal.transcript.decode(errors="replace")


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
